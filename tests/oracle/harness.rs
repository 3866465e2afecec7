//! Talking to the JVM harness: one process per batch, JSON lines in, JSON lines out.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// The environment variable holding the harness's command line (set by `conformance/oracle/run`).
const ORACLE: &str = "KAFKASIM_ORACLE";

/// Seeded randomness: the same inputs on every run.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Kafka's answers to `requests`, in order. Panics (failing the test) when the harness is not
/// configured, cannot start, exits non-zero, or answers a different number of lines.
pub fn ask(requests: &[Value]) -> Vec<Value> {
    let command = std::env::var(ORACLE)
        .unwrap_or_else(|_| panic!("{ORACLE} is not set: run these tests with conformance/oracle/run"));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the oracle `{command}`: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    // Write from another thread: the harness answers while it reads, and both pipes are finite.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = child.stdout.take().expect("piped stdout");
    let answers: Vec<Value> = BufReader::new(stdout)
        .lines()
        .map(|l| serde_json::from_str(&l.expect("harness output")).expect("a JSON answer"))
        .collect();
    writer.join().expect("writer thread").expect("harness stdin");
    let status = child.wait().expect("harness exit status");
    assert!(status.success(), "the oracle exited with {status}");
    assert_eq!(answers.len(), requests.len(), "one answer per request");
    for (request, answer) in requests.iter().zip(&answers) {
        assert!(
            answer.get("bad_request").is_none(),
            "the oracle could not read {request}: {answer}"
        );
    }
    answers
}

/// Fails with every disagreement (the first 20 in full) when there is any.
pub fn assert_agree(what: &str, compared: usize, disagreements: &[String]) {
    assert!(compared > 0, "nothing was compared");
    assert!(
        disagreements.is_empty(),
        "{} of {compared} {what} disagree with Kafka 4.0.1:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
