//! The plugin's parameters: what `params()` declares to the host, and the parsing of the
//! `(name, value)` pairs `run()` receives.
//!
//! Parameters arrive as strings, so every value is validated here and a bad one is
//! answered with `invalid-input` naming the parameter and the values it accepts. Unknown
//! names and repeated names are refused too: a typo (`windw=5`) silently ignored would
//! give a plausible but wrong answer.

use optionhub_pricing::chain::PluginError;

/// One declared parameter, as plain data (the component turns it into a WIT `param-spec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDoc {
    pub name: &'static str,
    pub description: &'static str,
    pub default_value: &'static str,
}

/// Everything `params()` declares, with the defaults [`GexParams::default`] uses.
pub const PARAMS: [ParamDoc; 2] = [
    ParamDoc {
        name: "window",
        description: "Strikes each side of the ATM strike (listed strike nearest the forward) \
                      to include; 0 includes every strike",
        default_value: "0",
    },
    ParamDoc {
        name: "scale",
        description: "Unit of the GEX values: \"crore\" (rupees / 1e7) or \"rupees\"",
        default_value: "crore",
    },
];

/// The unit GEX values are reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// Crore rupees (1 crore = 10 000 000 rupees).
    #[default]
    Crore,
    Rupees,
}

impl Scale {
    /// Rupees per reported unit.
    pub fn divisor(self) -> f64 {
        match self {
            Self::Crore => 1e7,
            Self::Rupees => 1.0,
        }
    }

    /// The unit string attached to GEX outputs.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Crore => "INR crore",
            Self::Rupees => "INR",
        }
    }
}

/// The parsed parameters of one `run()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GexParams {
    /// Strikes each side of ATM to include; 0 = all strikes.
    pub window: u32,
    pub scale: Scale,
}

impl GexParams {
    /// Parses the `(name, value)` pairs from the host; absent parameters take their
    /// defaults. Surrounding whitespace in values is ignored; `scale` is case-insensitive.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, PluginError> {
        let mut params = Self::default();
        let mut seen: Vec<&str> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                return Err(invalid(format!("param `{name}` is given more than once")));
            }
            seen.push(name);
            let value = value.trim();
            match name.as_str() {
                "window" => params.window = parse_window(value)?,
                "scale" => params.scale = parse_scale(value)?,
                _ => {
                    return Err(invalid(format!(
                        "unknown param `{name}`; accepted params: window, scale"
                    )));
                }
            }
        }
        Ok(params)
    }
}

fn parse_window(value: &str) -> Result<u32, PluginError> {
    value.parse().map_err(|_| {
        invalid(format!(
            "param `window`: `{value}` is not accepted; accepted values: 0 (every strike) \
             or a whole number N of strikes each side of ATM (1, 2, 3, ...)"
        ))
    })
}

fn parse_scale(value: &str) -> Result<Scale, PluginError> {
    if value.eq_ignore_ascii_case("crore") {
        Ok(Scale::Crore)
    } else if value.eq_ignore_ascii_case("rupees") {
        Ok(Scale::Rupees)
    } else {
        Err(invalid(format!(
            "param `scale`: `{value}` is not accepted; accepted values: crore, rupees"
        )))
    }
}

fn invalid(message: String) -> PluginError {
    PluginError::InvalidInput(message)
}

#[cfg(test)]
mod tests;
