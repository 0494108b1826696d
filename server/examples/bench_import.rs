//! Importing a large OpenAPI document: parse, scan, rank and build the best
//! 20 operations, then pack it (SHA-256 + gzip) as the wizard stores it.
//! Prints time and peak memory (VmHWM growth) for each size.
//!
//! `cargo run --release -p server --example bench_import`

#[path = "support/memory.rs"]
mod memory;

use memory::status_kib;
use server::generate::budget::{Budget, IMPORT_TIME};
use server::generate::openapi::{prepare, sample::large_document};
use server::wizards::pack;
use std::time::Instant;

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Imports the document at `path` and prints one line (run in a child
/// process, so its peak memory is its own).
fn measure(path: &str) {
    let text = std::fs::read_to_string(path).expect("the document reads");
    reset_peak();
    let base = status_kib(std::process::id(), "VmRSS:");
    let started = Instant::now();
    let prepared = prepare(&text, None, "update resource 42 and retrieve resources", 20, &mut Budget::new(IMPORT_TIME))
        .expect("the document imports");
    let import = started.elapsed().as_secs_f64();
    let peak = status_kib(std::process::id(), "VmHWM:").saturating_sub(base) as f64 / 1024.0;
    let started = Instant::now();
    let packed = pack(&text);
    let pack_s = started.elapsed().as_secs_f64();
    println!(
        "{:>9.1} {:>10} {:>11.2} {:>13.1} {:>10.2} {:>12.2} {:>11}",
        text.len() as f64 / 1048576.0,
        prepared.operations.len(),
        import,
        peak,
        pack_s,
        packed.body.len() as f64 / 1048576.0,
        prepared.ranked.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, path] = args.as_slice()
        && flag == "--measure"
    {
        return measure(path);
    }
    println!(
        "{:>9} {:>10} {:>11} {:>13} {:>10} {:>12} {:>11}",
        "doc MiB", "operations", "import s", "peak +MiB", "pack s", "stored MiB", "candidates"
    );
    let dir = std::env::temp_dir().join(format!("bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for mib in [1usize, 13, 26, 31] {
        let path = dir.join(format!("{mib}.json"));
        std::fs::write(&path, large_document(mib << 20)).unwrap();
        let status = std::process::Command::new(&args[0]).arg("--measure").arg(&path).status().unwrap();
        assert!(status.success(), "the import of {mib} MiB failed");
    }
    std::fs::remove_dir_all(&dir).ok();
}
