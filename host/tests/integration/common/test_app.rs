//! [`TestApp`]: the one way integration tests start a server, after crates.io's
//! `TestApp`. A builder says what differs from the defaults of [`server_config`] (which
//! plugins are installed, where the data lives, any configuration tweak); the app owns
//! its temporary data directory and answers the usual questions (its URL, a JSON `GET`
//! as the test admin or as anyone).

use std::ops::Deref;
use std::path::{Path, PathBuf};

use optionhub::config::Config;
use optionhub::server::{self, RunningServer};
use serde_json::Value;

use super::{admin_token, server_config, wasm_path};

/// A configuration change a test asks for.
type Tweak = Box<dyn FnOnce(&mut Config)>;

/// A server started for one test, with its data directory. Derefs to the
/// [`RunningServer`], so `app.state`, `app.addr` and `app.simulator()` work as on it.
pub(crate) struct TestApp {
    running: RunningServer,
    base: String,
    client: reqwest::Client,
    /// Removed when the app is dropped; `None` when the test owns the directory.
    _data: Option<tempfile::TempDir>,
}

/// What a test wants of its server; [`TestAppBuilder::start`] starts it.
pub(crate) struct TestAppBuilder {
    /// Plugin crates installed in the watched directory; `None`: no directory at all.
    plugins: Option<Vec<&'static str>>,
    data: Option<PathBuf>,
    tweaks: Vec<Tweak>,
}

impl TestApp {
    /// The defaults: the simulator, the Greeks plugin installed in a watched directory,
    /// a fresh temporary data directory.
    pub(crate) fn builder() -> TestAppBuilder {
        TestAppBuilder {
            plugins: Some(vec!["greeks-black76"]),
            data: None,
            tweaks: Vec::new(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The address of `path` on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` as the test admin: status and JSON body.
    pub(crate) async fn get_json(&self, path: &str) -> (u16, Value) {
        self.get_json_as(path, Some(&admin_token())).await
    }

    /// `GET path` with `token` (or none): status and JSON body. A body that is not JSON
    /// fails the test, naming the path and the status.
    pub(crate) async fn get_json_as(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: status {status}, not JSON ({e}): {text}"));
        (status, body)
    }

    /// The server's simulator (every test server runs on one).
    pub(crate) fn sim(&self) -> &optionhub::feed::sim::SimHandle {
        self.running
            .simulator()
            .expect("the test server runs the simulator")
    }

    /// Stops the server and waits for it, failing the test if it did not stop cleanly.
    pub(crate) async fn stop(self) {
        self.running.stop().await.expect("server stops");
    }
}

impl Deref for TestApp {
    type Target = RunningServer;

    fn deref(&self) -> &RunningServer {
        &self.running
    }
}

impl TestAppBuilder {
    /// Installs these plugin crates (and no others) in the watched directory.
    pub(crate) fn plugins(mut self, crates: &[&'static str]) -> Self {
        self.plugins = Some(crates.to_vec());
        self
    }

    /// Starts with no plugin and no plugin directory (plugins can still be uploaded).
    pub(crate) fn no_plugins(mut self) -> Self {
        self.plugins = None;
        self
    }

    /// Uses `dir` (which the test owns, and may reuse across restarts) as the data
    /// directory.
    pub(crate) fn data_dir(mut self, dir: &Path) -> Self {
        self.data = Some(dir.to_path_buf());
        self
    }

    /// Changes the configuration before the server starts; tweaks apply in order.
    pub(crate) fn configure(mut self, tweak: impl FnOnce(&mut Config) + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    pub(crate) async fn start(self) -> TestApp {
        let (data, owned) = match self.data {
            Some(dir) => (dir, None),
            None => {
                let temp = tempfile::tempdir().expect("tempdir");
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let plugin_dir = self.plugins.map(|crates| {
            let dir = data.join("plugins");
            std::fs::create_dir_all(&dir).expect("mkdir plugins");
            for crate_name in crates {
                let file = format!("{}.wasm", crate_name.replace('-', "_"));
                std::fs::copy(wasm_path(crate_name), dir.join(file)).expect("install plugin");
            }
            dir
        });
        let mut config = server_config(&data, plugin_dir.as_deref());
        for tweak in self.tweaks {
            tweak(&mut config);
        }
        let running = server::start(config).await.expect("server starts");
        TestApp {
            base: format!("http://{}", running.addr),
            running,
            client: reqwest::Client::new(),
            _data: owned,
        }
    }
}
