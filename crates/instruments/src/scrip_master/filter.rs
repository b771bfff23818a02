//! Which rows of the scrip master optionhub keeps, and the one spelling of each
//! underlying's name.
//!
//! A full master has ~200k rows, of which a few thousand matter (the configured
//! indices and their index futures and options), so the test runs on borrowed cells and
//! allocates only for rows it keeps.

/// Other spellings of index names seen in masters and configs (NSE's official index
/// names, BSE's `S&P` prefix), mapped to the name Dhan uses for the index's derivatives.
/// Matched case-insensitively.
const INDEX_ALIASES: [(&str, &str); 8] = [
    ("NIFTY 50", "NIFTY"),
    ("NIFTY BANK", "BANKNIFTY"),
    ("NIFTY FIN SERVICE", "FINNIFTY"),
    ("NIFTY FINANCIAL SERVICES", "FINNIFTY"),
    ("NIFTY MID SELECT", "MIDCPNIFTY"),
    ("NIFTY MIDCAP SELECT", "MIDCPNIFTY"),
    ("NIFTY NEXT 50", "NIFTYNXT50"),
    ("S&P BSE SENSEX", "SENSEX"),
];

/// The name an underlying goes by: surrounding space trimmed and known aliases resolved.
/// Case is left alone (comparisons ignore ASCII case), so this never allocates.
pub fn canonical_underlying(raw: &str) -> &str {
    let trimmed = raw.trim();
    INDEX_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(trimmed))
        .map_or(trimmed, |&(_, name)| name)
}

/// Selects the index rows and the index futures and options (`INDEX`, `FUTIDX`,
/// `OPTIDX`) of a set of underlyings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Canonical, upper-case names.
    underlyings: Vec<String>,
}

impl Filter {
    /// A filter for these underlyings, named as in config (`NIFTY`, `nifty`, `NIFTY 50`
    /// all mean NIFTY).
    pub fn new<I, S>(underlyings: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut names: Vec<String> = underlyings
            .into_iter()
            .map(|name| canonical_underlying(name.as_ref()).to_ascii_uppercase())
            .filter(|name| !name.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        Self { underlyings: names }
    }

    /// The selected underlyings: canonical, upper case, sorted.
    pub fn underlyings(&self) -> &[String] {
        &self.underlyings
    }

    /// The selected name `raw` stands for, if it is selected.
    pub(super) fn selected(&self, raw: &str) -> Option<&str> {
        let name = canonical_underlying(raw);
        self.underlyings
            .iter()
            .find(|selected| selected.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_case_resolve_to_one_name() {
        let filter = Filter::new(["nifty", "NIFTY 50", " Sensex ", "BANKNIFTY", ""]);
        assert_eq!(filter.underlyings(), ["BANKNIFTY", "NIFTY", "SENSEX"]);
        assert_eq!(filter.selected("Nifty 50"), Some("NIFTY"));
        assert_eq!(filter.selected("NIFTY BANK"), Some("BANKNIFTY"));
        assert_eq!(filter.selected("S&P BSE SENSEX"), Some("SENSEX"));
        assert_eq!(filter.selected("FINNIFTY"), None);
        assert_eq!(filter.selected("NIFTY NEXT 50"), None);
    }
}
