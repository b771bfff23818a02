//! The `optionhub` binary: parse the command line, set up logging, dispatch.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use optionhub::cli::{Cli, Command, PluginCommand, ServeArgs, UserCommand, env_aliases};
use optionhub::config::DataConfig;
use optionhub::{commands, server, telemetry};

fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying before anything else.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("warning: ignoring .env: {error}");
    }
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The old variable names of deployments optionhub replaces, for the commands that
    // read the settings they stand in for.
    let old_names = || env_aliases::process_env().context("reading the migration variable names");
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(Box::new(ServeArgs::from_env())))
    {
        Command::Serve(mut args) => {
            args.apply_env_aliases(&old_names()?)?.log();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(server::run(args.into_config()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(commands::run_simulator(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Plugin(PluginCommand::Check { file }) => commands::plugin_check(&file),
        Command::Plugin(PluginCommand::List { plugins, data }) => {
            commands::plugin_list(&plugins, &DataConfig { dir: data.dir })
        }
        Command::Migrate(mut args) => {
            args.apply_env_aliases(&old_names()?)?.log();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(commands::migrate(&args))
        }
        Command::User(mut command) => {
            match &mut command {
                UserCommand::Add { common, .. }
                | UserCommand::Token { common, .. }
                | UserCommand::List { common } => {
                    common.apply_env_aliases(&old_names()?)?.log();
                }
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                match command {
                    UserCommand::Add {
                        name,
                        role,
                        tier,
                        password_stdin,
                        update,
                        common,
                    } => {
                        let password = password_stdin
                            .then(commands::read_password_line)
                            .transpose()?;
                        commands::user_add(&name, role, tier, password, update, &common).await
                    }
                    UserCommand::Token { name, common } => {
                        commands::user_token(&name, &common).await
                    }
                    UserCommand::List { common } => commands::user_list(&common).await,
                }
            })
        }
    }
}
