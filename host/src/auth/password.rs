//! Password hashes: argon2id in PHC string form (algorithm, parameters and salt travel
//! with the hash, so parameters can be raised later without breaking old hashes).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be 8 to 1024 bytes long")]
    BadLength,
    #[error("cannot hash password: {0}")]
    Hash(String),
}

/// Hashes a new password with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if !(8..=1024).contains(&password.len()) {
        return Err(PasswordError::BadLength);
    }
    let salt_bytes: [u8; 16] = rand::random();
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches `stored`. A malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if password.len() > 1024 {
        return false;
    }
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_password_verifies_wrong_does_not() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsf", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn salts_differ_and_short_passwords_are_refused() {
        assert_ne!(
            hash_password("same pass").unwrap(),
            hash_password("same pass").unwrap()
        );
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::BadLength)
        ));
    }
}
