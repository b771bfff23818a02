//! A registry built from a scrip master, with failures told in terms of the file.
//!
//! "No index row for NIFTY" is true but useless when the file has a NIFTY index row
//! that parsing rejected: the operator needs that row's line, the cell, its value and
//! why it was refused. The parser keeps the rejected rows ([`BadRow`]); this joins them
//! to the registry's complaint, so a malformed row is never reported as a missing one.

use super::{InstrumentRegistry, RegistryError};
use crate::Instrument;
use crate::scrip_master::{BadRow, InstrumentClass, canonical_underlying};

/// How many rejected rows one error lists.
const MAX_LISTED: usize = 10;

/// The registry's reason, and the rows the scrip master rejected that would have
/// filled the gap (the underlyings named, or rows whose underlying could not be read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MasterCoverageError {
    pub error: RegistryError,
    pub rejected: Vec<BadRow>,
}

impl std::fmt::Display for MasterCoverageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        let mut rows = self.rejected.iter();
        if let Some(first) = rows.next() {
            write!(
                f,
                "; the scrip master has rows for them that were rejected: {first}"
            )?;
            for row in rows {
                write!(f, "; {row}")?;
            }
        }
        Ok(())
    }
}

impl InstrumentRegistry {
    /// [`InstrumentRegistry::build`] from a parsed scrip master's instruments and the
    /// rows it rejected; a missing index row or missing options come with the rejected
    /// rows that were meant to be them.
    pub fn build_from_master(
        instruments: Vec<Instrument>,
        underlyings: &[String],
        rejected: &[BadRow],
    ) -> Result<Self, MasterCoverageError> {
        Self::build(instruments, underlyings).map_err(|error| {
            let wanted = match &error {
                RegistryError::MissingIndex(names) => Some((names, InstrumentClass::Index)),
                RegistryError::MissingOptions(names) => Some((names, InstrumentClass::IndexOption)),
                RegistryError::AmbiguousIndex { .. } | RegistryError::DuplicateKey(_) => None,
            };
            let rejected = wanted.map_or_else(Vec::new, |(names, class)| {
                rejected
                    .iter()
                    .filter(|row| row.class.is_none_or(|c| c == class))
                    .filter(|row| {
                        row.underlying.as_deref().is_none_or(|underlying| {
                            let underlying = canonical_underlying(underlying);
                            names.iter().any(|n| n.eq_ignore_ascii_case(underlying))
                        })
                    })
                    .take(MAX_LISTED)
                    .cloned()
                    .collect()
            });
            MasterCoverageError { error, rejected }
        })
    }
}
