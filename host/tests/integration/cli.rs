//! The `optionhub` binary's subcommands, run as a user would: plugins, users, and
//! `serve` refusing a configuration it cannot honour.

use std::process::Command;

use crate::common::wasm_path;

fn optionhub(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_optionhub"))
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn plugin_check_describes_a_good_plugin_and_its_params() {
    let path = wasm_path("gamma-exposure");
    let (ok, stdout, stderr) = optionhub(&["plugin", "check", &path.display().to_string()]);
    assert!(ok, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("name:        gamma-exposure"), "{stdout}");
    assert!(stdout.contains("world:       custom-analytics"), "{stdout}");
    assert!(stdout.contains("params:"), "{stdout}");
}

#[test]
fn plugin_check_refuses_a_foreign_component_with_a_reason() {
    let path = wasm_path("wrong-world");
    let (ok, _, stderr) = optionhub(&["plugin", "check", &path.display().to_string()]);
    assert!(!ok);
    assert!(
        stderr.contains("not an optionhub analytics plugin"),
        "{stderr}"
    );
}

#[test]
fn plugin_list_loads_a_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::copy(wasm_path("greeks-black76"), dir.path().join("greeks.wasm")).expect("copy");
    let (ok, stdout, stderr) = optionhub(&[
        "plugin",
        "list",
        "--plugins",
        &dir.path().display().to_string(),
        "--data",
        &data.path().display().to_string(),
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("greeks-black76") && stdout.contains("greeks-model"),
        "{stdout}"
    );
}

#[test]
fn user_add_then_token_gives_a_token_the_server_accepts() {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().display().to_string();
    let (ok, stdout, stderr) = optionhub(&[
        "user", "add", "ops-1", "--role", "admin", "--tier", "pro", "--data", &dir,
    ]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("added ops-1"), "{stdout}");
    // A second add of the same name is refused unless --update.
    let (ok, _, _) = optionhub(&["user", "add", "ops-1", "--data", &dir]);
    assert!(!ok);
    let (ok, stdout, _) = optionhub(&[
        "user", "add", "ops-1", "--role", "trader", "--update", "--data", &dir,
    ]);
    assert!(ok && stdout.contains("updated ops-1"), "{stdout}");

    let (ok, token, stderr) = optionhub(&["user", "token", "ops-1", "--data", &dir]);
    assert!(ok, "{stderr}");
    // The development secret the CLI generated is the one a server on this data
    // directory uses.
    let service = optionhub::auth::token_service(
        &optionhub::config::AuthConfig::development(None),
        data.path(),
    )
    .expect("token service");
    let principal = service.verify(token.trim()).expect("valid token");
    assert_eq!(principal.user, "ops-1");
    assert_eq!(principal.role, optionhub::auth::Role::Trader);
    assert_eq!(principal.tier, optionhub::auth::Tier::Pro);

    let (ok, _, stderr) = optionhub(&["user", "token", "nobody", "--data", &dir]);
    assert!(!ok && stderr.contains("no user"), "{stderr}");
    let (ok, stdout, _) = optionhub(&["user", "list", "--data", &dir]);
    assert!(
        ok && stdout.contains("ops-1") && stdout.contains("token-only"),
        "{stdout}"
    );
}

#[test]
fn serve_exits_with_a_clear_error_when_the_database_is_unreachable() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_optionhub"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        // Nothing listens on port 1.
        .args(["--database-url", "postgres://postgres@127.0.0.1:1/x"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve kept running without its database");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert!(!status.success());
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(stderr.contains("unavailable"), "{stderr}");
}

#[test]
fn serve_refuses_a_half_set_database_group_naming_what_is_missing() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_optionhub"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path());
    for name in [
        "DATABASE_URL",
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_USER",
        "DB_PASSWORD",
    ] {
        command.env_remove(name);
    }
    let output = command
        .env("DB_HOST", "db.internal")
        .env("DB_PORT", "5432")
        .env("DB_USER", "half-set-user")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("set without DB_NAME, DB_PASSWORD"),
        "{stderr}"
    );
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(
        !stderr.contains("half-set-user"),
        "values stay out: {stderr}"
    );
    // It stopped at the configuration: no SQLite database was created instead.
    assert!(
        std::fs::read_dir(data.path())
            .expect("data dir")
            .next()
            .is_none(),
        "the data directory was written to"
    );
}
