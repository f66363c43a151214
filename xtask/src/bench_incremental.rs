//! The figures of `cargo xtask bench pack` beyond a full pack: re-pack after changing one file
//! (the block cache warm from the full packs), re-sign, verify against `xz -dc | sha512sum`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bench_measure::{self, Usage};

/// Medians over the runs, on one tree.
#[derive(Debug, Clone, Default)]
pub struct IncrementalResult {
    /// The file changed before each re-pack (path in the tree, size).
    pub changed: (String, u64),
    pub repack: Usage,
    /// Blocks compressed / blocks in all, as the re-pack reported them.
    pub repack_blocks: String,
    pub resign: Usage,
    pub verify: Usage,
    pub xz_dc_sha512: Usage,
}

/// The regular file whose size is closest to `target` bytes.
pub fn file_near(tree: &Path, target: u64) -> Result<(PathBuf, u64), String> {
    walkdir::WalkDir::new(tree)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok().map(|m| (e.into_path(), m.len())))
        .min_by_key(|(_, len)| len.abs_diff(target))
        .ok_or_else(|| format!("no files in {}", tree.display()))
}

/// Overwrites 64 KiB in the middle of `path` with bytes that differ for each `round`.
fn change(path: &Path, round: usize) -> Result<(), String> {
    let mut bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mid = bytes.len() / 2;
    let end = (mid + (64 << 10)).min(bytes.len());
    for (i, b) in bytes[mid..end].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(round as u8 * 17 + 1);
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn median(usages: &[Usage]) -> Usage {
    let pick = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        v[v.len() / 2]
    };
    Usage {
        wall: std::time::Duration::from_secs_f64(pick(usages.iter().map(|u| u.wall.as_secs_f64()).collect())),
        cpu: std::time::Duration::from_secs_f64(pick(usages.iter().map(|u| u.cpu.as_secs_f64()).collect())),
        max_rss_kib: pick(usages.iter().map(|u| u.max_rss_kib as f64).collect()) as u64,
    }
}

/// Runs every figure on `tree`, whose full pack left `spk` and a warm block cache (the
/// environment of `pack` says where).
pub fn measure(
    pack: &dyn Fn(&Path) -> Command,
    exe: &Path,
    keyring: &Path,
    tree: &Path,
    spk: &Path,
    scratch: &Path,
    runs: usize,
) -> Result<IncrementalResult, String> {
    let (changed, size) = file_near(tree, 1_000_000)?;
    let rel = changed
        .strip_prefix(tree)
        .unwrap_or(&changed)
        .display()
        .to_string();
    let log = scratch.join("incremental.log");
    let mut result = IncrementalResult {
        changed: (rel, size),
        ..Default::default()
    };
    let repacked = scratch.join("repacked.spk");
    let mut repacks = Vec::new();
    for run in 1..=runs {
        change(&changed, run)?;
        repacks.push(bench_measure::command(
            &mut pack(&repacked),
            "soiree-pack pack (re-pack)",
            &log,
        )?);
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = said.lines().find(|l| l.contains(" blocks: ")) {
            result.repack_blocks = line
                .split("; ")
                .nth(1)
                .unwrap_or(line)
                .trim_end_matches(')')
                .to_string();
        }
    }
    result.repack = median(&repacks);
    let resigned = scratch.join("resigned.spk");
    let mut resigns = Vec::new();
    let mut verifies = Vec::new();
    let mut baselines = Vec::new();
    let xz = scratch.join("archive.xz");
    let bytes = std::fs::read(spk).map_err(|e| format!("{}: {e}", spk.display()))?;
    std::fs::write(&xz, bytes.get(8..).unwrap_or_default()).map_err(|e| format!("{}: {e}", xz.display()))?;
    for _ in 0..runs {
        let _ = std::fs::remove_file(&resigned);
        resigns.push(bench_measure::command(
            Command::new(exe)
                .arg("sign")
                .arg(spk)
                .arg("-o")
                .arg(&resigned)
                .arg("--keyring")
                .arg(keyring)
                .env_remove("SOIREE_SIGNING_KEY"),
            "soiree-pack sign",
            &log,
        )?);
        verifies.push(bench_measure::command(
            Command::new(exe).arg("verify").arg(spk),
            "soiree-pack verify",
            &log,
        )?);
        baselines.push(bench_measure::xz_dc_sha512(&xz)?);
    }
    result.resign = median(&resigns);
    result.verify = median(&verifies);
    result.xz_dc_sha512 = median(&baselines);
    eprintln!(
        "  re-pack {:.2} s ({}), re-sign {:.2} s, verify {:.2} s, xz -dc | sha512sum {:.2} s",
        result.repack.wall.as_secs_f64(),
        result.repack_blocks,
        result.resign.wall.as_secs_f64(),
        result.verify.wall.as_secs_f64(),
        result.xz_dc_sha512.wall.as_secs_f64()
    );
    Ok(result)
}
