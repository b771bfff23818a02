//! Turning the auth configuration into a [`TokenService`] at start-up: reading key files,
//! and in development, making up a secret when none is configured.
//!
//! Production refuses to start without real keys. Development keeps its generated secret
//! in the data directory (mode 0600) so the CLI's `user token` and the server agree, and
//! says loudly that it did.

use std::path::Path;

use anyhow::{Context, bail};

use super::{TokenService, TokenSettings};
use crate::{AuthConfig, JwtKeys, RunMode};

const DEV_SECRET_FILE: &str = "jwt-dev-secret";

/// Builds the token service the configuration describes.
pub fn token_service(config: &AuthConfig, data_dir: &Path) -> anyhow::Result<TokenService> {
    let settings = TokenSettings {
        issuer: config.issuer.clone(),
        audience: config.audience.clone(),
        ttl: config.token_ttl,
        leeway: config.leeway,
    };
    match &config.keys {
        JwtKeys::Hs256 {
            secret: Some(secret),
        } => {
            if secret.len() < AuthConfig::MIN_SECRET_BYTES {
                if config.mode == RunMode::Production {
                    bail!(
                        "JWT_SECRET is {} bytes; production needs at least {}",
                        secret.len(),
                        AuthConfig::MIN_SECRET_BYTES
                    );
                }
                tracing::warn!(
                    bytes = secret.len(),
                    minimum = AuthConfig::MIN_SECRET_BYTES,
                    "JWT_SECRET is short; production mode would refuse it"
                );
            }
            Ok(TokenService::hs256(secret.as_bytes(), settings))
        }
        JwtKeys::Hs256 { secret: None } => {
            if config.mode == RunMode::Production {
                bail!(
                    "no JWT_SECRET set: production mode needs a secret of at least {} bytes \
                     (or RS256 keys)",
                    AuthConfig::MIN_SECRET_BYTES
                );
            }
            let secret = dev_secret(data_dir)?;
            Ok(TokenService::hs256(secret.as_bytes(), settings))
        }
        JwtKeys::Rs256 {
            public_pem,
            private_pem,
        } => {
            let public = std::fs::read(public_pem)
                .with_context(|| format!("cannot read {}", public_pem.display()))?;
            let private = private_pem
                .as_ref()
                .map(|path| {
                    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
                })
                .transpose()?;
            TokenService::rs256(&public, private.as_deref(), settings)
                .context("cannot use the RS256 keys")
        }
    }
}

/// The development secret: read from the data directory, or generated and written there.
fn dev_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join(DEV_SECRET_FILE);
    if let Some(existing) = crate::secret_file::read(&path)? {
        let existing = existing.trim().to_string();
        // Not regenerated: a new secret would silently void every token issued so far.
        if existing.len() < AuthConfig::MIN_SECRET_BYTES {
            bail!(
                "{} holds no usable development secret (under {} bytes); delete it to have \
                 a new one generated (tokens issued so far then stop working)",
                path.display(),
                AuthConfig::MIN_SECRET_BYTES
            );
        }
        warn_dev_secret(&path, false);
        return Ok(existing);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    crate::secret_file::write(&path, &secret)
        .with_context(|| format!("cannot write the development secret to {}", path.display()))?;
    warn_dev_secret(&path, true);
    Ok(secret)
}

fn warn_dev_secret(path: &Path, generated: bool) {
    tracing::warn!(
        file = %path.display(),
        generated,
        "DEVELOPMENT MODE: no JWT_SECRET configured; tokens are signed with a random \
         development secret kept in the data directory. Never run like this in production \
         (--mode production refuses to)."
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Principal, Role, Tier};

    fn principal() -> Principal {
        Principal {
            user: "ops".into(),
            role: Role::Admin,
            tier: Tier::Pro,
        }
    }

    #[test]
    fn production_refuses_missing_or_short_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = AuthConfig::development(None);
        config.mode = RunMode::Production;
        assert!(token_service(&config, dir.path()).is_err());
        config.keys = JwtKeys::Hs256 {
            secret: Some("short".into()),
        };
        assert!(token_service(&config, dir.path()).is_err());
        config.keys = JwtKeys::Hs256 {
            secret: Some("x".repeat(32)),
        };
        assert!(token_service(&config, dir.path()).is_ok());
    }

    #[test]
    fn development_secret_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = AuthConfig::development(None);
        let first = token_service(&config, dir.path()).unwrap();
        let token = first.issue(&principal()).unwrap();
        // A second process (the CLI) reads the same secret: its tokens check out.
        let second = token_service(&config, dir.path()).unwrap();
        assert_eq!(second.verify(&token).unwrap(), principal());
        let stored = std::fs::read_to_string(dir.path().join(DEV_SECRET_FILE)).unwrap();
        assert_eq!(stored.len(), 64);
    }

    #[test]
    fn rs256_issues_with_the_private_key_and_checks_with_the_public_one() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let dir = tempfile::tempdir().unwrap();
        let mut config = AuthConfig::development(None);
        config.mode = RunMode::Production;
        config.keys = JwtKeys::Rs256 {
            public_pem: fixtures.join("jwt-rs256-public.pem"),
            private_pem: Some(fixtures.join("jwt-rs256-private.pem")),
        };
        let signer = token_service(&config, dir.path()).unwrap();
        let token = signer.issue(&principal()).unwrap();
        assert_eq!(signer.verify(&token).unwrap(), principal());

        // With the public key only: checks, cannot issue.
        config.keys = JwtKeys::Rs256 {
            public_pem: fixtures.join("jwt-rs256-public.pem"),
            private_pem: None,
        };
        let checker = token_service(&config, dir.path()).unwrap();
        assert_eq!(checker.verify(&token).unwrap(), principal());
        assert_eq!(
            checker.issue(&principal()),
            Err(crate::AuthError::CannotIssue)
        );

        // Algorithm confusion: an HS256 token keyed with the public key's bytes is refused.
        let public = std::fs::read(fixtures.join("jwt-rs256-public.pem")).unwrap();
        let forged = crate::TokenService::hs256(
            &public,
            crate::TokenSettings {
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                ttl: config.token_ttl,
                leeway: config.leeway,
            },
        )
        .issue(&principal())
        .unwrap();
        assert!(checker.verify(&forged).is_err());

        // A missing key file is a start-up error naming the file.
        config.keys = JwtKeys::Rs256 {
            public_pem: dir.path().join("missing.pem"),
            private_pem: None,
        };
        let error = token_service(&config, dir.path()).unwrap_err();
        assert!(format!("{error:#}").contains("missing.pem"));
    }

    #[test]
    fn a_development_secret_file_that_is_short_or_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEV_SECRET_FILE);
        crate::secret_file::write(&path, "short").unwrap();
        let config = AuthConfig::development(None);
        let error = format!("{:#}", token_service(&config, dir.path()).unwrap_err());
        assert!(error.contains("no usable development secret"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "short", "kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            crate::secret_file::write(&path, &"ab".repeat(32)).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let error = format!("{:#}", token_service(&config, dir.path()).unwrap_err());
            assert!(error.contains("chmod 600"), "{error}");
        }
    }
}
