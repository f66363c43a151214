//! `cargo xtask bench pack [--sizes MB,MB] [--rss-size MB] [--runs N] [--source DIR] [--exe PATH]
//! [--no-docs]`: time and peak memory of `soiree-pack pack` against `tar c | xz -6 -T<cores>` on
//! trees of real shared libraries; on the largest tree also re-pack after a one-file change,
//! re-sign and verify (bench_incremental.rs); peak RSS on a bigger tree; all written to
//! `docs/benchmarks.md` (section `## pack`).

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bench_incremental;
use crate::bench_measure::{self, Usage};
use crate::bench_report::{self, RunFacts, SizeResult};
use crate::bench_tree;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Tree sizes in MB (10^6 bytes).
    pub sizes_mb: Vec<u64>,
    /// A bigger tree packed once for its peak RSS (0: none).
    pub rss_mb: u64,
    pub runs: usize,
    pub source: PathBuf,
    /// A soiree-pack binary to measure instead of building one.
    pub exe: Option<PathBuf>,
    pub write_docs: bool,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo build --release -p soiree-pack`; returns the binary's path as cargo reports it.
fn build_release(root: &Path) -> Result<PathBuf, String> {
    eprintln!("xtask: cargo build --release -p soiree-pack");
    let mut child = cargo()
        .current_dir(root)
        .args(["build", "--release", "-p", "soiree-pack"])
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo build: {e}"))?;
    let mut exe = None;
    if let Some(stdout) = child.stdout.take() {
        for message in cargo_metadata::Message::parse_stream(BufReader::new(stdout)).flatten() {
            if let cargo_metadata::Message::CompilerArtifact(a) = message {
                if a.target.name == "soiree-pack" && a.executable.is_some() {
                    exe = a.executable.map(PathBuf::from);
                }
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --release -p soiree-pack failed ({status})"));
    }
    exe.ok_or_else(|| "cargo build reported no soiree-pack executable".into())
}

fn first_line(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "(unknown)".into())
}

fn facts(opts: &Options, args: &[String]) -> RunFacts {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "(unknown)".into());
    RunFacts {
        date: bench_report::today(),
        command: format!("cargo xtask bench {}", args.join(" ")),
        nproc: nproc(),
        cpu,
        xz_version: first_line(Command::new("xz").arg("--version")),
        load_before: load_average(),
        load_after: String::new(),
        runs: opts.runs,
        source: opts.source.display().to_string(),
    }
}

fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn nproc() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn median_by<T: Copy, K: PartialOrd + Copy>(items: &[T], key: impl Fn(&T) -> K) -> K {
    let mut keys: Vec<K> = items.iter().map(key).collect();
    keys.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    keys[keys.len() / 2]
}

/// Per-field medians (wall, CPU and RSS each taken on its own).
fn median(usages: &[Usage]) -> Usage {
    Usage {
        wall: median_by(usages, |u| u.wall),
        cpu: median_by(usages, |u| u.cpu),
        max_rss_kib: median_by(usages, |u| u.max_rss_kib),
    }
}

fn file_len(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `soiree-pack pack TREE -o OUT --keyring K` with the block cache in `cache` (default
/// compression: plain LZMA2).
fn pack_command(exe: &Path, keyring: &Path, tree: &Path, cache: &Path, out: &Path) -> Command {
    let mut pack = Command::new(exe);
    pack.arg("pack")
        .arg(tree)
        .arg("-o")
        .arg(out)
        .arg("--keyring")
        .arg(keyring)
        .env("SOIREE_PACK_CACHE_DIR", cache)
        .env_remove("SOIREE_PACK_CACHE_SIZE")
        .env_remove("SOIREE_SIGNING_KEY")
        .env_remove("SOURCE_DATE_EPOCH");
    pack
}

/// Full packs (each with an empty block cache) against tar | xz, and one `--x86-filter` pack
/// for its size. The last default run's package and cache are left for the incremental figures.
fn measure_size(
    exe: &Path,
    keyring: &Path,
    tree: &Path,
    scratch: &Path,
    runs: usize,
) -> Result<SizeResult, String> {
    let spk = scratch.join("out.spk");
    let txz = scratch.join("out.tar.xz");
    let cache = scratch.join("cache");
    let (mut soiree, mut xz, mut tar) = (Vec::new(), Vec::new(), Vec::new());
    let (mut spk_bytes, mut xz_bytes) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let _ = std::fs::remove_file(&spk);
        let _ = std::fs::remove_dir_all(&cache);
        let mut pack = pack_command(exe, keyring, tree, &cache, &spk);
        let s = bench_measure::command(&mut pack, "soiree-pack pack", &scratch.join("pack.log"))?;
        spk_bytes.push(file_len(&spk)?);
        let (x, t) = bench_measure::tar_xz(tree, &txz, 6, nproc())?;
        xz_bytes.push(file_len(&txz)?);
        eprintln!(
            "  run {run}/{runs}: soiree-pack {:.2} s {} KiB, tar|xz {:.2} s {} KiB",
            s.wall.as_secs_f64(),
            s.max_rss_kib,
            x.wall.as_secs_f64(),
            x.max_rss_kib
        );
        soiree.push(s);
        xz.push(x);
        tar.push(t);
    }
    // A cache of its own: the default packs' cache stays warm for the re-pack figures.
    let x86_cache = scratch.join("cache-x86");
    let x86_spk = scratch.join("x86.spk");
    let mut x86 = pack_command(exe, keyring, tree, &x86_cache, &x86_spk);
    x86.arg("--x86-filter");
    bench_measure::command(
        &mut x86,
        "soiree-pack pack --x86-filter",
        &scratch.join("pack.log"),
    )?;
    let spk_x86_bytes = file_len(&x86_spk)?;
    eprintln!("  --x86-filter: {spk_x86_bytes} bytes");
    let _ = std::fs::remove_dir_all(&x86_cache);
    Ok(SizeResult {
        tree: Default::default(),
        spk_x86_bytes,
        soiree: median(&soiree),
        xz: median(&xz),
        tar: median(&tar),
        spk_bytes: median_by(&spk_bytes, |b| *b),
        xz_bytes: median_by(&xz_bytes, |b| *b),
        soiree_fastest: soiree.iter().map(|u| u.wall).min().unwrap_or_default(),
        xz_fastest: xz.iter().map(|u| u.wall).min().unwrap_or_default(),
    })
}

/// Runs the benchmark; returns the markdown section it wrote (or would write).
pub fn pack(root: &Path, opts: &Options, args: &[String]) -> Result<String, String> {
    let facts = facts(opts, args);
    let exe = match &opts.exe {
        Some(exe) => exe.clone(),
        None => build_release(root)?,
    };
    let scratch = tempfile::Builder::new()
        .prefix("soiree-bench-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    let keyring = scratch.path().join("keyring");
    bench_measure::command(
        Command::new(&exe).arg("keygen").arg("--keyring").arg(&keyring),
        "soiree-pack keygen",
        &scratch.path().join("keygen.log"),
    )?;
    let libs = bench_tree::shared_libraries(&opts.source)?;
    let mut results = Vec::new();
    let mut incremental = None;
    for (i, &size) in opts.sizes_mb.iter().enumerate() {
        let tree = scratch.path().join(format!("tree-{size}MB"));
        let info = bench_tree::build(&opts.source, &libs, &tree, size * 1_000_000)?;
        eprintln!(
            "xtask: {size} MB tree: {} files, {} bytes; {} runs",
            info.files, info.bytes, opts.runs
        );
        let result = measure_size(&exe, &keyring, &tree, scratch.path(), opts.runs)?;
        if i + 1 == opts.sizes_mb.len() {
            eprintln!("xtask: re-pack, re-sign and verify on the {size} MB tree");
            let cache = scratch.path().join("cache");
            let pack = |out: &Path| pack_command(&exe, &keyring, &tree, &cache, out);
            let spk = scratch.path().join("out.spk");
            let inc =
                bench_incremental::measure(&pack, &exe, &keyring, &tree, &spk, scratch.path(), opts.runs)?;
            incremental = Some((info, inc));
        }
        results.push(SizeResult { tree: info, ..result });
        // Free the disk before the next, larger tree.
        std::fs::remove_dir_all(&tree).map_err(|e| format!("{}: {e}", tree.display()))?;
    }
    let mut rss = None;
    if opts.rss_mb > 0 {
        let tree = scratch.path().join(format!("tree-{}MB", opts.rss_mb));
        let info = bench_tree::build(&opts.source, &libs, &tree, opts.rss_mb * 1_000_000)?;
        eprintln!(
            "xtask: {} MB tree for peak RSS: {} files, {} bytes; 1 run",
            opts.rss_mb, info.files, info.bytes
        );
        let cache = scratch.path().join("cache-rss");
        let spk = scratch.path().join("rss.spk");
        let usage = bench_measure::command(
            &mut pack_command(&exe, &keyring, &tree, &cache, &spk),
            "soiree-pack pack",
            &scratch.path().join("pack.log"),
        )?;
        eprintln!("  {:.2} s, {} KiB", usage.wall.as_secs_f64(), usage.max_rss_kib);
        rss = Some((info, usage));
        std::fs::remove_dir_all(&tree).map_err(|e| format!("{}: {e}", tree.display()))?;
    }
    let facts = RunFacts {
        load_after: load_average(),
        ..facts
    };
    let section = bench_report::section(&facts, &results, incremental.as_ref(), rss.as_ref());
    if opts.write_docs {
        bench_report::write_docs(root, &section)?;
    }
    Ok(section)
}
