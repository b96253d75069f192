//! Running the third-party validators in ../shared/interop. When a tool is
//! missing the test prints a visible SKIP, unless `GOVSEAL_INTEROP=require`,
//! in which case it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The interop scripts directory.
pub fn scripts() -> PathBuf {
    std::env::var_os("GOVSEAL_INTEROP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/interop"))
}

/// A tool on `PATH`, or, written `python:MODULE`, a module python3 imports.
fn on_path(tool: &str) -> bool {
    let probe = match tool.strip_prefix("python:") {
        Some(module) => format!("python3 -c 'import {module}' 2>/dev/null"),
        None => format!("command -v {tool}"),
    };
    Command::new("sh")
        .arg("-c")
        .arg(probe)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// True if every tool is present and the interop scripts are there.
/// Otherwise prints a SKIP line (or panics under `GOVSEAL_INTEROP=require`)
/// and returns false.
pub fn available(test: &str, tools: &[&str]) -> bool {
    let mut missing = missing(tools);
    if !scripts().is_dir() {
        missing.push(format!("{} (interop scripts)", scripts().display()));
    }
    judge(test, missing, "run ../shared/interop/setup.sh")
}

/// Like [`available`], for tools run directly (not through an interop
/// script): `install` says how to get them.
pub fn tools_available(test: &str, tools: &[&str], install: &str) -> bool {
    judge(test, missing(tools), install)
}

fn missing(tools: &[&str]) -> Vec<String> {
    tools
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| t.to_string())
        .collect()
}

fn judge(test: &str, missing: Vec<String>, install: &str) -> bool {
    if missing.is_empty() {
        return true;
    }
    let message = format!("{test}: interop tools missing: {}", missing.join(", "));
    if std::env::var("GOVSEAL_INTEROP").as_deref() == Ok("require") {
        panic!("{message} (GOVSEAL_INTEROP=require)");
    }
    eprintln!("SKIPPED {message} — {install}");
    false
}

/// Runs an interop script; returns (success, combined output).
pub fn run(script: &str, args: &[&Path], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(scripts().join(script));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run interop script");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
