//! Helpers shared by the integration tests.

use kafkasim::commands::bundled;
use kafkasim::scenario::Scenario;
use kafkasim::simulation::{RunOptions, RunResult, run};
use kafkasim::trace::TraceFormat;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Every bundled scenario, parsed.
pub fn bundled_scenarios() -> Vec<Scenario> {
    bundled()
        .iter()
        .map(|(file, text)| Scenario::parse(file, text).unwrap_or_else(|e| panic!("{file} is invalid:\n{e}")))
        .collect()
}

/// Runs a scenario with a trace in `format`.
pub fn run_traced(s: &Scenario, format: TraceFormat, seed: Option<u64>) -> RunResult {
    run(
        s,
        &RunOptions {
            seed,
            trace: Some(format),
            ..RunOptions::default()
        },
    )
}

/// The `kafkasim` binary cargo built for these tests.
pub fn kafkasim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kafkasim"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Runs `kafkasim` with `args`, feeding `stdin`.
pub fn kafkasim_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = kafkasim()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the keys");
    child.wait_with_output().expect("the binary ends")
}

/// A fresh directory under the target dir for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("target dir is writable");
    dir
}
