//! Who is calling: roles and tiers, access tokens (JWT), and password hashes.
//!
//! Tokens are stateless: a valid, unexpired token signed with our key is enough on a
//! request path, so checking one costs a signature check and no database round trip.
//! Users (and their password hashes) live in the store; this module never touches it.

pub(crate) mod keys;
mod password;
mod principal;
mod token;

pub use keys::token_service;
pub use password::{PasswordChecks, PasswordError, hash_password, verify_password};
pub use principal::{Principal, Role, Tier};
pub use token::{AuthError, TokenService, TokenSettings};
