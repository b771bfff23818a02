//! Tests of parameter parsing: defaults, accepted values, and the messages bad values get.

use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// The message of an `invalid-input` error; fails the test on anything else.
fn invalid_message(result: Result<GexParams, PluginError>) -> String {
    match result {
        Err(PluginError::InvalidInput(message)) => message,
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

#[test]
fn no_params_gives_the_declared_defaults() -> Result<(), PluginError> {
    let parsed = GexParams::parse(&[])?;
    assert_eq!(
        parsed,
        GexParams {
            window: 0,
            scale: Scale::Crore
        }
    );
    // The declared defaults parse to the same thing.
    let declared: Vec<(String, String)> = PARAMS
        .iter()
        .map(|p| (p.name.to_owned(), p.default_value.to_owned()))
        .collect();
    assert_eq!(GexParams::parse(&declared)?, parsed);
    Ok(())
}

#[test]
fn parses_window_and_scale() -> Result<(), PluginError> {
    let parsed = GexParams::parse(&pairs(&[("window", " 10 "), ("scale", "Rupees")]))?;
    assert_eq!(
        parsed,
        GexParams {
            window: 10,
            scale: Scale::Rupees
        }
    );
    Ok(())
}

#[test]
fn bad_window_names_the_param_and_accepted_values() {
    for bad in ["-1", "abc", "", "2.5", "99999999999"] {
        let message = invalid_message(GexParams::parse(&pairs(&[("window", bad)])));
        assert!(message.contains("`window`"), "{message}");
        assert!(message.contains("accepted values: 0"), "{message}");
    }
}

#[test]
fn bad_scale_names_the_param_and_accepted_values() {
    let message = invalid_message(GexParams::parse(&pairs(&[("scale", "lakh")])));
    assert!(message.contains("`scale`"), "{message}");
    assert!(message.contains("`lakh`"), "{message}");
    assert!(
        message.contains("accepted values: crore, rupees"),
        "{message}"
    );
}

#[test]
fn unknown_and_repeated_params_are_refused() {
    let message = invalid_message(GexParams::parse(&pairs(&[("windw", "5")])));
    assert!(message.contains("`windw`"), "{message}");
    assert!(
        message.contains("accepted params: window, scale"),
        "{message}"
    );

    let message = invalid_message(GexParams::parse(&pairs(&[
        ("window", "1"),
        ("window", "2"),
    ])));
    assert!(
        message.contains("`window` is given more than once"),
        "{message}"
    );
}

#[test]
fn scale_divisors_and_units() {
    assert_eq!(Scale::Crore.divisor(), 10_000_000.0);
    assert_eq!(Scale::Rupees.divisor(), 1.0);
    assert_eq!(Scale::Crore.unit(), "INR crore");
    assert_eq!(Scale::Rupees.unit(), "INR");
}
