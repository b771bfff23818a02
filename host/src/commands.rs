//! The subcommands besides `serve`: `optionhub plugin check` and `optionhub plugin list`
//! (which run the same loader the server runs, so "check passes" means "the server will
//! load it"), `optionhub sim` (the DhanHQ simulator on its own), the user commands and
//! `optionhub migrate`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::auth::{Principal, Role, Tier, hash_password, token_service};
use crate::cli::UserStoreArgs;
use crate::config::{DataConfig, PluginConfig};
use crate::plugins::artifacts::short_hash;
use crate::plugins::{LoadedPlugin, PluginHost, PluginSource, World};
use crate::store::{NewUser, Store, users::Users};

/// Validates one component and prints what it is, or why it would be refused.
pub fn plugin_check(file: &Path) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let host = PluginHost::new(PluginConfig::in_memory())?;
    match host.check(&bytes, PluginSource::File(file.to_path_buf())) {
        Ok(plugin) => {
            println!("ok: {}", file.display());
            print_plugin(&plugin);
            if plugin.world() == World::CustomAnalytics {
                let limits = host.limits();
                match plugin.custom_params(host.engine(), limits) {
                    Ok(params) if !params.is_empty() => {
                        println!("  params:");
                        for p in params {
                            println!(
                                "    {} (default {:?}): {}",
                                p.name, p.default_value, p.description
                            );
                        }
                    }
                    Ok(_) => println!("  params:      none"),
                    Err(error) => println!("  params:      error: {error}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("refused: {}\n  {error}", file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Loads a plugin directory as the server would and lists the result.
pub fn plugin_list(dir: &Path, data: &DataConfig) -> anyhow::Result<ExitCode> {
    let host = PluginHost::new(PluginConfig::new(
        Some(dir.to_path_buf()),
        data.plugin_cache_dir(),
    ))?;
    let results = host
        .load_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
    if results.is_empty() {
        println!("no *.wasm files in {}", dir.display());
    }
    let mut refused = 0;
    for (path, result) in results {
        match result {
            Ok(report) => println!(
                "{:<24} {:<10} {:<20} {}  {}",
                report.plugin.name,
                report.plugin.version,
                report.plugin.world.name(),
                short_hash(&report.plugin.hash),
                path.display()
            ),
            Err(error) => {
                refused += 1;
                println!("refused {}: {error}", path.display());
            }
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_plugin(plugin: &LoadedPlugin) {
    println!("  name:        {}", plugin.name());
    println!("  version:     {}", plugin.info.version);
    println!("  world:       {}", plugin.world());
    println!("  description: {}", plugin.info.description);
    println!("  sha256:      {}", plugin.hash);
    println!(
        "  loaded in:   {:.1} ms (compile, contract check, self-test)",
        plugin.load_time.as_secs_f64() * 1e3
    );
}

/// `optionhub sim`: serves the simulator until Ctrl-C.
pub async fn run_simulator(args: crate::cli::SimArgs) -> anyhow::Result<()> {
    let listen = args.listen;
    let sim = crate::feed::sim::SimHandle::start(listen, args.into_config())
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the simulator on {listen}: {e}"))?;
    println!("DhanHQ simulator on {}", sim.addr());
    println!("  feed:         {}", sim.feed_url());
    println!("  REST:         {}/v2/", sim.api_url());
    println!("  scrip master: {}", sim.scrip_master_url());
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}

/// `optionhub user add NAME --role R --tier T [--password-stdin] [--update]`.
pub async fn user_add(
    name: &str,
    role: Option<Role>,
    tier: Option<Tier>,
    password: Option<String>,
    update: bool,
    args: &UserStoreArgs,
) -> anyhow::Result<ExitCode> {
    if !Users::valid_name(name) {
        anyhow::bail!("{name:?} is not a valid user name (1-64 of letters, digits, . _ - @)");
    }
    let hash = password.as_deref().map(hash_password).transpose()?;
    let (_, store_config, _) = args.configs();
    let store = Store::open_waiting(&store_config)
        .await
        .context("cannot open the database")?;
    let users = store.users();
    let existing = if update { users.get(name).await? } else { None };
    if let Some(user) = existing {
        let role = role.unwrap_or(user.role);
        let tier = tier.unwrap_or(user.tier);
        users.update(name, role, tier, hash.as_deref()).await?;
        println!("updated {name}: role {role}, tier {tier}");
    } else {
        let role = role.unwrap_or(Role::Viewer);
        let tier = tier.unwrap_or(Tier::Free);
        users
            .add(NewUser {
                username: name,
                role,
                tier,
                password_hash: hash.as_deref(),
            })
            .await?;
        println!(
            "added {name}: role {role}, tier {tier}{}",
            if hash.is_some() {
                ""
            } else {
                " (no password: use `optionhub user token`)"
            }
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `optionhub user token NAME`: a fresh access token, on stdout alone (for scripts).
pub async fn user_token(name: &str, args: &UserStoreArgs) -> anyhow::Result<ExitCode> {
    let (data, store_config, auth) = args.configs();
    let store = Store::open_waiting(&store_config)
        .await
        .context("cannot open the database")?;
    let user = store.users().get(name).await?;
    store.close().await;
    let Some(user) = user else {
        eprintln!("no user {name:?}; add one with `optionhub user add {name} --role viewer`");
        return Ok(ExitCode::FAILURE);
    };
    let tokens = token_service(&auth, &data.dir)?;
    let principal: Principal = user.principal();
    println!("{}", tokens.issue(&principal)?);
    Ok(ExitCode::SUCCESS)
}

/// `optionhub user list`.
pub async fn user_list(args: &UserStoreArgs) -> anyhow::Result<ExitCode> {
    let (_, store_config, _) = args.configs();
    let store = Store::open_waiting(&store_config)
        .await
        .context("cannot open the database")?;
    let users = store.users().list().await?;
    store.close().await;
    for user in users {
        println!(
            "{:<24} {:<8} {:<5} {}",
            user.username,
            user.role,
            user.tier,
            if user.password_hash.is_some() {
                "password"
            } else {
                "token-only"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `optionhub migrate`: applies pending migrations, or refuses a newer schema.
pub async fn migrate(args: &crate::cli::MigrateArgs) -> anyhow::Result<ExitCode> {
    let config = args.config();
    // `Store::open` applies the migrations, and refuses a schema newer than this binary.
    let store = Store::open(&config)
        .await
        .with_context(|| format!("cannot migrate {}", config.redacted_url()))?;
    store.close().await;
    println!("database {} is up to date", config.redacted_url());
    Ok(ExitCode::SUCCESS)
}

/// The first line of stdin, for `--password-stdin`.
pub fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
