//! Who is calling: roles and tiers, access tokens (JWT), and password hashes.
//!
//! Tokens are stateless: a valid, unexpired token signed with our key is enough on a
//! request path, so checking one costs a signature check and no database round trip.
//! Users (and their password hashes) live in the store; this crate never touches it.
//! [`secret_file`] keeps the secrets the server generates for itself (the development
//! JWT secret, the development credentials key) owner-only.
#![forbid(unsafe_code)]

mod config;
pub(crate) mod keys;
mod password;
mod principal;
pub mod secret_file;
mod token;

pub use config::{AuthConfig, JwtKeys, RunMode};

pub use keys::token_service;
pub use password::{PasswordChecks, PasswordError, hash_password, verify_password};
pub use principal::{Principal, Role, Tier};
pub use token::{AuthError, TokenService, TokenSettings};
