//! Broker credentials at rest: sealed with ChaCha20-Poly1305 under a key from the
//! configuration, never stored or returned in plain text.
//!
//! Each secret gets a fresh random 96-bit nonce, and the row it belongs to (its owner's
//! name and the account's id) is bound in as associated data, so a sealed value copied
//! onto another account, the owner's own included, does not open. The stored form is
//! `v2:` and the hex of nonce || ciphertext+tag.
//!
//! Values sealed before the account id was bound (plain hex, owner only) still open,
//! for their owner, on any of the owner's accounts: they cannot be re-sealed without the
//! key, which the migrations never see, and refusing them would lose the credentials.
//! Every value sealed from now on is `v2:`.
//!
//! In development with no key configured, a random key is generated once and kept in
//! the data directory (mode 0600, checked on every start), like the development JWT
//! secret; a key file that does not parse stops the server rather than being replaced,
//! since a new key would strand every sealed value. Production has no such fallback:
//! without a key the server runs, but refuses to accept credentials.

use std::path::Path;

use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::config::{PortfolioConfig, RunMode};

const DEV_KEY_FILE: &str = "credentials-dev-key";
const NONCE_BYTES: usize = 12;
/// Marks a value sealed for one account (owner and id bound in).
const V2_PREFIX: &str = "v2:";
/// Starts the associated data of a `v2:` value, so it can never equal a legacy one.
const V2_CONTEXT: &str = "optionhub-credentials-v2";

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
    #[error("the sealed credentials do not open with this key for this account")]
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

    /// Seals `secret` for `owner`'s account `account_id`: `v2:` and the hex of
    /// nonce || ciphertext.
    pub fn seal(&self, owner: &str, account_id: i64, secret: &str) -> Result<String, SealError> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: &account_binding(owner, account_id),
                },
            )
            .map_err(|_| SealError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{V2_PREFIX}{}", hex::encode(out)))
    }

    /// Opens what [`seal`](Self::seal) made for the same owner and account (or, for a
    /// value sealed before accounts were bound, for the same owner).
    pub fn open(&self, owner: &str, account_id: i64, sealed: &str) -> Result<String, SealError> {
        let (hex_text, aad) = match sealed.strip_prefix(V2_PREFIX) {
            Some(rest) => (rest, account_binding(owner, account_id)),
            None => (sealed, owner.as_bytes().to_vec()),
        };
        let bytes = hex::decode(hex_text).map_err(|_| SealError::Malformed)?;
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
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

/// The associated data of a `v2:` value. User names cannot hold a NUL, so the fields
/// cannot run into each other.
fn account_binding(owner: &str, account_id: i64) -> Vec<u8> {
    format!("{V2_CONTEXT}\0{owner}\0{account_id}").into_bytes()
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    hex::decode(text.trim()).ok()?.try_into().ok()
}

/// The development key: read from the data directory, or generated and written there.
fn dev_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(DEV_KEY_FILE);
    if let Some(text) = crate::secret_file::read(&path)? {
        return parse_key(&text).with_context(|| {
            format!(
                "{} does not hold a credentials key (64 hex digits). It was not replaced: \
                 credentials sealed so far open only with the key that sealed them. Restore \
                 it, or delete it to start over with a new key (those credentials are then \
                 lost)",
                path.display()
            )
        });
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let key: [u8; 32] = rand::random();
    crate::secret_file::write(&path, &hex::encode(key))
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
    fn seals_open_only_for_the_same_key_owner_and_account() {
        let sealer = CredentialSealer::new(&[7; 32]);
        let sealed = sealer.seal("alice", 1, "dhan-access-token").unwrap();
        assert!(sealed.starts_with("v2:") && !sealed.contains("dhan"));
        assert_ne!(
            sealed,
            sealer.seal("alice", 1, "dhan-access-token").unwrap(),
            "fresh nonce"
        );
        assert_eq!(
            sealer.open("alice", 1, &sealed).unwrap(),
            "dhan-access-token"
        );
        for (owner, account) in [("bob", 1), ("alice", 2), ("alice1", 1)] {
            assert!(
                matches!(
                    sealer.open(owner, account, &sealed),
                    Err(SealError::WrongKey)
                ),
                "{owner} {account}"
            );
        }
        let other = CredentialSealer::new(&[8; 32]);
        assert!(matches!(
            other.open("alice", 1, &sealed),
            Err(SealError::WrongKey)
        ));
        for garbage in ["zz", "v2:zz", "v2:00"] {
            assert!(matches!(
                sealer.open("alice", 1, garbage),
                Err(SealError::Malformed)
            ));
        }
        assert!(format!("{sealer:?}").contains("redacted"));
    }

    /// A value sealed the way the store held them before accounts were bound: plain hex
    /// of nonce || ciphertext, with the owner's name alone as associated data.
    fn legacy_seal(key: &[u8; 32], owner: &str, secret: &str) -> String {
        let nonce = [3u8; NONCE_BYTES];
        let sealed = ChaCha20Poly1305::new(Key::from_slice(key))
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .unwrap();
        hex::encode([nonce.to_vec(), sealed].concat())
    }

    #[test]
    fn values_sealed_before_accounts_were_bound_still_open_for_their_owner() {
        let sealer = CredentialSealer::new(&[7; 32]);
        let legacy = legacy_seal(&[7; 32], "alice", "old-token");
        assert_eq!(sealer.open("alice", 5, &legacy).unwrap(), "old-token");
        assert!(matches!(
            sealer.open("bob", 5, &legacy),
            Err(SealError::WrongKey)
        ));
        // Dressed up as v2, the legacy ciphertext does not open: the bindings differ.
        assert!(matches!(
            sealer.open("alice", 5, &format!("v2:{legacy}")),
            Err(SealError::WrongKey)
        ));
    }

    #[test]
    fn development_keeps_one_private_key_and_production_needs_one() {
        let dir = tempfile::tempdir().unwrap();
        let config = PortfolioConfig::default();
        let first = CredentialSealer::from_config(&config, RunMode::Development, dir.path())
            .unwrap()
            .unwrap();
        let sealed = first.seal("alice", 1, "secret").unwrap();
        let again = CredentialSealer::from_config(&config, RunMode::Development, dir.path())
            .unwrap()
            .unwrap();
        assert_eq!(
            again.open("alice", 1, &sealed).unwrap(),
            "secret",
            "same key"
        );
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

    #[test]
    fn a_development_key_that_does_not_parse_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEV_KEY_FILE);
        crate::secret_file::write(&path, "not a key").unwrap();
        let config = PortfolioConfig::default();
        let error =
            CredentialSealer::from_config(&config, RunMode::Development, dir.path()).unwrap_err();
        assert!(format!("{error:#}").contains("does not hold a credentials key"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "not a key",
            "left as it was"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_development_key_others_can_read_stops_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = PortfolioConfig::default();
        CredentialSealer::from_config(&config, RunMode::Development, dir.path()).unwrap();
        let path = dir.path().join(DEV_KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error =
            CredentialSealer::from_config(&config, RunMode::Development, dir.path()).unwrap_err();
        assert!(format!("{error:#}").contains("chmod 600"), "{error:#}");
    }
}
