//! Embeds every `scenarios/*.ron` in the binary, so `kafkasim list` and `kafkasim run <name>`
//! work from any directory, with the properties files they load (`scenarios/configs/*`).

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ron"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from(
        "/// Bundled scenarios: (path relative to the crate, contents).\npub static BUNDLED: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().and_then(|n| n.to_str()).expect("UTF-8 file names");
        let _ = writeln!(
            code,
            "    (\"scenarios/{name}\", include_str!({:?})),",
            f.display().to_string()
        );
    }
    code.push_str("];\n");
    let configs = dir.join("configs");
    println!("cargo:rerun-if-changed={}", configs.display());
    let mut config_files: Vec<_> = std::fs::read_dir(&configs)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    config_files.sort();
    code.push_str(
        "/// Properties files bundled scenarios load: (path relative to the crate, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for f in &config_files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().and_then(|n| n.to_str()).expect("UTF-8 file names");
        let _ = writeln!(
            code,
            "    (\"scenarios/configs/{name}\", include_bytes!({:?})),",
            f.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
