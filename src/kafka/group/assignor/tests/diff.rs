//! TEMPORARY dev check against big case files.
#[test]
#[ignore]
fn differential() {
    let path = std::env::var("CASES").unwrap_or("/tmp/kj/cases.txt".into());
    let text = std::fs::read_to_string(path).unwrap();
    let text: String = text
        .split("end\n")
        .filter(|c| c.contains("case") && !c.contains("\nerror "))
        .map(|c| format!("{c}end\n"))
        .collect();
    let (found, n) = super::kafka_runs::compare(&text);
    eprintln!("cases {n} mismatches {}", found.len());
    for f in found.iter().take(20) {
        eprintln!("{f}");
    }
    assert!(found.is_empty());
}
