//! Messages for input the fuzzer found, that a corpus file cannot express: a source line of
//! megabytes, and output paths that cannot be written.

use crate::support::{kafkasim, scratch_dir};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_error_on_a_line_of_megabytes_shows_only_the_part_around_the_caret() {
    // A generated scenario on one line: 4 MB of spaces, then a typo.
    let text = std::fs::read_to_string("scenarios/linger-batching.ron")
        .expect("bundled")
        .replace(
            "\"linger.ms\": 50",
            &format!("{}\"linger.m\": 50", " ".repeat(4_000_000)),
        );
    let file = scratch_dir("long-line").join("long.ron");
    std::fs::write(&file, text).expect("writable");
    let o = kafkasim()
        .args(["run", file.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.len() < 2_000,
        "the error has {} bytes:\n{}",
        err.len(),
        &err[..2_000]
    );
    assert!(err.contains("unknown producer config `linger.m`"), "{err}");
    assert!(err.contains(&format!("long.ron:17:{}", 4_000_049)), "{err}");
    let shown = format!("17 | …{}\"linger.m\": 50", " ".repeat(40));
    assert!(err.contains(&shown), "{err}");
    let caret = format!("   | {}^^^^^^^^^^\n", " ".repeat(41));
    assert!(err.contains(&caret), "{err}");
}

#[test]
fn an_output_file_that_cannot_be_written_is_named() {
    // A directory where the summary goes fails for every user, root included.
    let dir = scratch_dir("out-in-the-way");
    std::fs::create_dir_all(dir.join("summary.txt")).expect("writable");
    let o = kafkasim()
        .args([
            "run",
            "one-partition-order",
            "--out",
            dir.to_str().expect("utf-8"),
        ])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let path = dir.join("summary.txt");
    assert!(
        err.starts_with(&format!("error: cannot write `{}`: ", path.display())),
        "{err}"
    );
    let blocked = scratch_dir("out-under-a-file");
    let file = blocked.join("plain-file");
    std::fs::write(&file, "").expect("writable");
    let out = file.join("out");
    for args in [
        vec!["run", "one-partition-order", "--out"],
        vec!["sweep", "linger-batching", "--vary", "linger.ms=0", "--out"],
    ] {
        let o = kafkasim().args(&args).arg(&out).output().expect("runs");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!("error: cannot create `{}`: ", out.display())),
            "{args:?}: {err}"
        );
    }
}
