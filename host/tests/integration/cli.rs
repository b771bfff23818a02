//! The `optionhub` binary's plugin subcommands, run as a user would.

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
