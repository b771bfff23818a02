//! Password hashes: argon2id in PHC string form (algorithm, parameters and salt travel
//! with the hash, so parameters can be raised later without breaking old hashes).
//!
//! A hash costs tens of milliseconds of a core by design. The server checks passwords
//! through [`PasswordChecks`], which runs a bounded number at once on the blocking
//! pool: a login flood then queues behind its permits instead of taking every core and
//! blocking thread that plugin calls also run on.

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

/// Password checks for the server, at most a fixed number at once.
#[derive(Debug)]
pub struct PasswordChecks {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
}

impl PasswordChecks {
    /// At most `slots` checks at once (at least one).
    pub fn new(slots: usize) -> Self {
        Self {
            permits: tokio::sync::Semaphore::new(slots.max(1)),
            waiting: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Whether `password` matches `stored` (the hash is looked up lazily, on the
    /// blocking thread, so a decoy hash costs its first caller no async time). `None`
    /// when the check could not run (the blocking task panicked).
    pub async fn verify(
        &self,
        password: String,
        stored: impl FnOnce() -> String + Send + 'static,
    ) -> Option<bool> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        // The semaphore is never closed; without a permit, checking anyway is no worse
        // than before the bound existed.
        let _permit = permit.ok();
        tokio::task::spawn_blocking(move || verify_password(&password, &stored()))
            .await
            .ok()
    }

    /// Checks waiting for a permit right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes a permit until the returned guard drops: for tests that need the checks
    /// to queue.
    pub async fn hold(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }
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

    #[tokio::test]
    async fn checks_beyond_the_slots_wait_for_a_permit() {
        let hash = hash_password("correct horse").unwrap();
        let checks = std::sync::Arc::new(PasswordChecks::new(1));
        let held = checks.hold().await.unwrap();
        let waiting = {
            let checks = checks.clone();
            let hash = hash.clone();
            tokio::spawn(async move { checks.verify("correct horse".into(), move || hash).await })
        };
        while checks.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished());
        drop(held);
        assert_eq!(waiting.await.unwrap(), Some(true));
        assert_eq!(checks.waiting(), 0);
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
