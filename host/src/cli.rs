//! The command line: `optionhub [serve]`, `optionhub plugin check FILE`,
//! `optionhub plugin list`. This is the one place configuration is read from flags and
//! the environment (every flag has an `OPTIONHUB_*` variable; `.env` is read first).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, DataConfig, LogFormat, PluginConfig, SandboxLimits, ServerConfig};

#[derive(Debug, Parser)]
#[command(
    name = "optionhub",
    version,
    about = "Indian F&O market data with hot-swappable Wasm analytics"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log format.
    #[arg(
        long,
        env = "OPTIONHUB_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Inspect plugins without running the server.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Validate a component against the contract and run its self-test.
    Check {
        /// The `.wasm` component.
        file: PathBuf,
    },
    /// Load every plugin in a directory and list what would serve.
    List {
        /// The plugin directory.
        #[arg(long, env = "OPTIONHUB_PLUGINS")]
        plugins: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Directory for everything written at run time (database, caches, compiled plugins).
    #[arg(long = "data", env = "OPTIONHUB_DATA", default_value = "./data")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OPTIONHUB_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// The watched plugin directory (created if missing).
    #[arg(long, env = "OPTIONHUB_PLUGINS")]
    pub plugins: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Memory cap of one plugin call, MiB.
    #[arg(long, env = "OPTIONHUB_PLUGIN_MEMORY_MIB", default_value_t = 64)]
    pub plugin_memory_mib: usize,
    /// CPU deadline of one plugin call, milliseconds.
    #[arg(long, env = "OPTIONHUB_PLUGIN_DEADLINE_MS", default_value_t = 100)]
    pub plugin_deadline_ms: u64,
    /// Cap on what one plugin call may return, MiB.
    #[arg(long, env = "OPTIONHUB_PLUGIN_MAX_RESULT_MIB", default_value_t = 16)]
    pub plugin_max_result_mib: usize,
}

/// `optionhub` with no subcommand: `serve` with flags from the environment and defaults.
#[derive(Debug, Parser)]
struct ServeDefaults {
    #[command(flatten)]
    args: ServeArgs,
}

impl ServeArgs {
    pub fn from_env() -> Self {
        ServeDefaults::parse_from(["optionhub"]).args
    }

    pub fn into_config(self) -> Config {
        let data = DataConfig { dir: self.data.dir };
        let mut plugins = PluginConfig::new(self.plugins, &data);
        plugins.limits = SandboxLimits {
            memory_bytes: self.plugin_memory_mib << 20,
            deadline: Duration::from_millis(self.plugin_deadline_ms),
            max_result_bytes: self.plugin_max_result_mib << 20,
            ..SandboxLimits::default()
        };
        Config {
            server: ServerConfig {
                listen: self.listen,
            },
            data,
            plugins,
        }
    }
}
