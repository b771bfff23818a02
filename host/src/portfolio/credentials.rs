//! Broker credentials at rest: sealed with ChaCha20-Poly1305 under a key from the
//! configuration, never stored or returned in plain text.
//!
//! Each secret gets a fresh random 96-bit nonce, and the owner's name is bound in as
//! associated data, so a sealed value copied onto another user's row does not open.
//! The stored form is hex of nonce || ciphertext+tag. In development with no key
//! configured, a random key is generated once and kept in the data directory (mode
//! 0600), like the development JWT secret; production has no such fallback: without a
//! key the server runs, but refuses to accept credentials.

use std::path::Path;

use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::config::{PortfolioConfig, RunMode};

const DEV_KEY_FILE: &str = "credentials-dev-key";
const NONCE_BYTES: usize = 12;

/// Seals and opens broker credentials.
pub struct CredentialSealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for CredentialSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialSealer(<key redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealed credentials are malformed")]
    Malformed,
    #[error("the sealed credentials do not open with this key and owner")]
    WrongKey,
    #[error("encryption failed")]
    Encrypt,
}

impl CredentialSealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// The sealer the configuration describes, at start-up; `None` in production with
    /// no key (credentials are then refused).
    pub fn from_config(
        config: &PortfolioConfig,
        mode: RunMode,
        data_dir: &Path,
    ) -> anyhow::Result<Option<Self>> {
        if let Some(hex_key) = &config.credentials_key {
            let key = parse_key(hex_key).context(
                "OPTIONHUB_CREDENTIALS_KEY must be 64 hex digits (a 32-byte ChaCha20-Poly1305 key)",
            )?;
            return Ok(Some(Self::new(&key)));
        }
        if mode == RunMode::Production {
            tracing::warn!(
                "no OPTIONHUB_CREDENTIALS_KEY: accounts cannot store broker credentials"
            );
            return Ok(None);
        }
        dev_key(data_dir).map(|key| Some(Self::new(&key)))
    }

    /// Seals `secret` for `owner`: hex of nonce || ciphertext.
    pub fn seal(&self, owner: &str, secret: &str) -> Result<String, SealError> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(hex::encode(out))
    }

    /// Opens what [`seal`](Self::seal) made for the same owner.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<String, SealError> {
        let bytes = hex::decode(sealed).map_err(|_| SealError::Malformed)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

/// The development key: read from the data directory, or generated and written there.
fn dev_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(DEV_KEY_FILE);
    if let Some(key) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| parse_key(&text))
    {
        return Ok(key);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let key: [u8; 32] = rand::random();
    crate::auth::keys::write_private(&path, &hex::encode(key))
        .with_context(|| format!("cannot write the credentials key to {}", path.display()))?;
    tracing::warn!(
        file = %path.display(),
        "DEVELOPMENT MODE: broker credentials are sealed with a generated key kept in the \
         data directory; set OPTIONHUB_CREDENTIALS_KEY in production"
    );
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_open_only_for_the_same_key_and_owner() {
        let sealer = CredentialSealer::new(&[7; 32]);
        let sealed = sealer.seal("alice", "dhan-access-token").unwrap();
        assert!(!sealed.contains("dhan"), "not plain text");
        assert_ne!(
            sealed,
            sealer.seal("alice", "dhan-access-token").unwrap(),
            "fresh nonce"
        );
        assert_eq!(sealer.open("alice", &sealed).unwrap(), "dhan-access-token");
        assert!(matches!(
            sealer.open("bob", &sealed),
            Err(SealError::WrongKey)
        ));
        let other = CredentialSealer::new(&[8; 32]);
        assert!(matches!(
            other.open("alice", &sealed),
            Err(SealError::WrongKey)
        ));
        assert!(matches!(
            sealer.open("alice", "zz"),
            Err(SealError::Malformed)
        ));
        assert!(format!("{sealer:?}").contains("redacted"));
    }

    #[test]
    fn development_keeps_one_private_key_and_production_needs_one() {
        let dir = tempfile::tempdir().unwrap();
        let config = PortfolioConfig::default();
        let first = CredentialSealer::from_config(&config, RunMode::Development, dir.path())
            .unwrap()
            .unwrap();
        let sealed = first.seal("alice", "secret").unwrap();
        let again = CredentialSealer::from_config(&config, RunMode::Development, dir.path())
            .unwrap()
            .unwrap();
        assert_eq!(again.open("alice", &sealed).unwrap(), "secret", "same key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(DEV_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let empty = tempfile::tempdir().unwrap();
        assert!(
            CredentialSealer::from_config(&config, RunMode::Production, empty.path())
                .unwrap()
                .is_none()
        );
        let keyed = PortfolioConfig {
            credentials_key: Some("11".repeat(32)),
            ..PortfolioConfig::default()
        };
        assert!(
            CredentialSealer::from_config(&keyed, RunMode::Production, empty.path())
                .unwrap()
                .is_some()
        );
        let short = PortfolioConfig {
            credentials_key: Some("11".into()),
            ..PortfolioConfig::default()
        };
        assert!(CredentialSealer::from_config(&short, RunMode::Production, empty.path()).is_err());
    }
}
