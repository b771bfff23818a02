//! How to reach Dhan: the account's credentials and the addresses of its services,
//! each configurable so that tests and the simulator can stand in.

/// Dhan's addresses; every one configurable so tests and the simulator can stand in.
/// Parsed URLs, so nothing downstream builds a request by gluing text together
/// (`endpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhanEndpoints {
    pub feed_url: url::Url,
    pub api_url: url::Url,
    pub scrip_master_url: url::Url,
}

/// Dhan credentials. `Debug` never shows the token; nothing logs it.
#[derive(Clone, PartialEq, Eq)]
pub struct DhanCredentials {
    client_id: String,
    access_token: String,
}

impl DhanCredentials {
    pub fn new(client_id: impl Into<String>, access_token: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            access_token: access_token.into(),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn access_token(&self) -> &str {
        &self.access_token
    }
}

impl std::fmt::Debug for DhanCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhanCredentials")
            .field("client_id", &self.client_id)
            .field("access_token", &"<redacted>")
            .finish()
    }
}
