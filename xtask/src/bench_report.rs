//! The results of `cargo xtask bench pack` as a table, and the `## pack` section of
//! `docs/benchmarks.md` that holds it.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::bench_incremental::IncrementalResult;
use crate::bench_measure::Usage;
use crate::bench_tree::TreeInfo;

/// Medians for one tree size.
#[derive(Debug, Clone, Copy, Default)]
pub struct SizeResult {
    pub tree: TreeInfo,
    pub soiree: Usage,
    pub xz: Usage,
    pub tar: Usage,
    pub spk_bytes: u64,
    pub xz_bytes: u64,
    /// The same tree packed with `--x86-filter` (one run: the size does not vary).
    pub spk_x86_bytes: u64,
    /// The fastest run of each: the least disturbed by other work on the machine.
    pub soiree_fastest: Duration,
    pub xz_fastest: Duration,
}

/// Facts about the machine and the run, printed above the table.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    pub date: String,
    pub command: String,
    pub nproc: usize,
    pub cpu: String,
    pub xz_version: String,
    pub load_before: String,
    pub load_after: String,
    pub runs: usize,
    pub source: String,
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

/// The markdown table, the target verdicts and a CPU-time table.
pub fn table(results: &[SizeResult]) -> String {
    let mut s = String::new();
    s.push_str(
        "| tree | files | soiree-pack time | tar\\|xz time | time ratio | .spk bytes | .tar.xz bytes \
         | size ratio | `--x86-filter` .spk bytes | its size ratio | soiree-pack peak RSS | xz peak RSS |\n",
    );
    s.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for r in results {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.3}× | {} | {} | {:.4}× | {} | {:.4}× | {} | {} |",
            mb(r.tree.bytes),
            r.tree.files,
            secs(r.soiree.wall),
            secs(r.xz.wall),
            ratio(r.soiree.wall.as_secs_f64(), r.xz.wall.as_secs_f64()),
            r.spk_bytes,
            r.xz_bytes,
            ratio(r.spk_bytes as f64, r.xz_bytes as f64),
            r.spk_x86_bytes,
            ratio(r.spk_x86_bytes as f64, r.xz_bytes as f64),
            mib(r.soiree.max_rss_kib),
            mib(r.xz.max_rss_kib),
        );
    }
    s.push('\n');
    let time_ok = results
        .iter()
        .all(|r| r.soiree.wall.as_secs_f64() <= r.xz.wall.as_secs_f64());
    let size_ok = results.iter().all(|r| r.spk_bytes <= r.xz_bytes);
    let x86_ok = results
        .iter()
        .all(|r| r.spk_x86_bytes as f64 <= 0.97 * r.xz_bytes as f64);
    let _ = writeln!(s, "- time ≤ 1.0× tar|xz: {}", verdict(time_ok));
    let _ = writeln!(
        s,
        "- size (plain LZMA2, the default) ≤ 1.00× tar|xz: {}",
        verdict(size_ok)
    );
    let _ = writeln!(
        s,
        "- size with `--x86-filter` ≤ 0.97× tar|xz: {}",
        verdict(x86_ok)
    );
    if let (Some(first), Some(last)) = (results.first(), results.last()) {
        if results.len() > 1 {
            let r = ratio(last.soiree.max_rss_kib as f64, first.soiree.max_rss_kib as f64);
            let _ = writeln!(
                s,
                "- soiree-pack peak RSS at {} / at {}: {:.3}× (target within ±10%: {})",
                mb(last.tree.bytes),
                mb(first.tree.bytes),
                r,
                verdict((0.9..=1.1).contains(&r))
            );
        }
    }
    s.push_str(
        "\nOther work on the machine inflates wall times; CPU time (user + system, medians) and the \
         fastest run of each are less disturbed:\n\n",
    );
    s.push_str(
        "| tree | fastest soiree-pack | fastest tar\\|xz | ratio | soiree-pack CPU | xz CPU | CPU ratio \
         | tar CPU | tar peak RSS |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in results {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3}× | {} | {} | {:.3}× | {} | {} |",
            mb(r.tree.bytes),
            secs(r.soiree_fastest),
            secs(r.xz_fastest),
            ratio(r.soiree_fastest.as_secs_f64(), r.xz_fastest.as_secs_f64()),
            secs(r.soiree.cpu),
            secs(r.xz.cpu),
            ratio(r.soiree.cpu.as_secs_f64(), r.xz.cpu.as_secs_f64()),
            secs(r.tar.cpu),
            mib(r.tar.max_rss_kib)
        );
    }
    s
}

/// Re-pack, re-sign, verify and peak RSS against their targets.
pub fn incremental_table(
    results: &[SizeResult],
    incremental: Option<&(TreeInfo, IncrementalResult)>,
    rss: Option<&(TreeInfo, Usage)>,
) -> String {
    let mut s = String::new();
    s.push_str("| figure | measured | ratio | target | |\n|---|--:|--:|--:|---|\n");
    let mut row = |figure: String, measured: String, r: f64, target: &str, ok: bool| {
        let _ = writeln!(
            s,
            "| {figure} | {measured} | {r:.3}× | {target} | {} |",
            verdict(ok)
        );
    };
    if let Some((tree, inc)) = incremental {
        if let Some(full) = results.iter().find(|r| r.tree.bytes == tree.bytes) {
            let full_wall = full.soiree.wall.as_secs_f64();
            let r = ratio(inc.repack.wall.as_secs_f64(), full_wall);
            row(
                format!(
                    "re-pack after changing `{}` ({} bytes) in the {} tree ({}) / full pack",
                    inc.changed.0,
                    inc.changed.1,
                    mb(tree.bytes),
                    inc.repack_blocks
                ),
                format!("{} / {}", secs(inc.repack.wall), secs(full.soiree.wall)),
                r,
                "≤ 0.05×",
                r <= 0.05,
            );
            let r = ratio(inc.resign.wall.as_secs_f64(), full_wall);
            row(
                "re-sign (`sign`) / full pack".into(),
                format!("{} / {}", secs(inc.resign.wall), secs(full.soiree.wall)),
                r,
                "≤ 0.02×",
                r <= 0.02,
            );
        }
        let r = ratio(inc.verify.wall.as_secs_f64(), inc.xz_dc_sha512.wall.as_secs_f64());
        row(
            "`verify` / `xz -dc \\| sha512sum`".into(),
            format!("{} / {}", secs(inc.verify.wall), secs(inc.xz_dc_sha512.wall)),
            r,
            "≤ 0.60×",
            r <= 0.60,
        );
    }
    if let (Some((tree, usage)), Some(first)) = (rss, results.first()) {
        let r = ratio(usage.max_rss_kib as f64, first.soiree.max_rss_kib as f64);
        row(
            format!("peak RSS at {} / at {}", mb(tree.bytes), mb(first.tree.bytes)),
            format!("{} / {}", mib(usage.max_rss_kib), mib(first.soiree.max_rss_kib)),
            r,
            "within ±10%",
            (0.9..=1.1).contains(&r),
        );
    }
    s
}

/// The whole `## pack` section.
pub fn section(
    facts: &RunFacts,
    results: &[SizeResult],
    incremental: Option<&(TreeInfo, IncrementalResult)>,
    rss: Option<&(TreeInfo, Usage)>,
) -> String {
    format!(
        "## pack\n\n\
         `soiree-pack pack TREE -o OUT.spk --keyring K` against `tar c -C TREE . | xz -6 -T{nproc}`, \
         on trees of real shared libraries from {source} (`*.so*` regular files in path order, \
         each inode once, none over 16 MiB) with a minimal `sandstorm-manifest`. Each figure is \
         the median of {runs} runs; peak RSS is each process's own `ru_maxrss` (from `wait4`), for \
         the pipeline xz's. A full pack starts with an empty block cache (and fills it). xz uses \
         liblzma's multithreaded encoder (preset 6: 24 MiB blocks); soiree-pack compresses its own \
         blocks cut at file boundaries (the tree's metadata alone, files under 1 MB in groups of \
         3–5 MiB, a file of 1 MB–2 MiB ending its block after at most 2 MiB of others, bigger \
         files whole up to 8 MiB), a worker per core, plain LZMA2 like xz; `--x86-filter` packs (xz's \
         x86 filter in front of LZMA2 for blocks of machine code; Sandstorm only) are measured \
         for size once per tree (see ARCHITECTURE.md).\n\n\
         - date: {date}\n- command: `{command}`\n- nproc: {nproc}\n- CPU: {cpu}\n- xz: {xz}\n\
         - load average (1, 5, 15 min) before the run: {load}; after: {load_after} \
         (other work on the machine disturbs the times)\n\n\
         {table}\n\
         Re-pack (the block cache warm from the full packs; each run changes 64 KiB in the middle \
         of the file, and its mtime), re-sign and verify of the largest tree's package, and peak \
         RSS of one full pack of a bigger tree:\n\n\
         {incremental}",
        nproc = facts.nproc,
        source = facts.source,
        runs = facts.runs,
        date = facts.date,
        command = facts.command,
        cpu = facts.cpu,
        xz = facts.xz_version,
        load = facts.load_before,
        load_after = facts.load_after,
        table = table(results),
        incremental = incremental_table(results, incremental, rss),
    )
}

/// Replaces the `## pack` section of `doc` (up to the next `## ` heading), or appends it.
pub fn replace_section(doc: &str, heading: &str, new_section: &str) -> String {
    let lines: Vec<&str> = doc.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == heading) else {
        let mut out = doc.trim_end().to_string();
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(new_section.trim_end());
        out.push('\n');
        return out;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("## "))
        .map(|i| start + 1 + i)
        .unwrap_or(lines.len());
    let mut out = lines[..start].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(new_section.trim_end());
    out.push('\n');
    if end < lines.len() {
        out.push('\n');
        out.push_str(&lines[end..].join("\n"));
        out.push('\n');
    }
    out
}

/// Writes the section into `docs/benchmarks.md`, creating the file if needed.
pub fn write_docs(root: &Path, new_section: &str) -> Result<(), String> {
    let path = root.join("docs/benchmarks.md");
    let doc = match std::fs::read_to_string(&path) {
        Ok(doc) => doc,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "# Benchmarks\n\nWritten by `cargo xtask bench`; each task rewrites its own section.\n".into()
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    std::fs::write(&path, replace_section(&doc, "## pack", new_section))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Howard Hinnant's civil_from_days.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_its_own_section() {
        let doc = "# B\n\n## pack\nold\n\n## verify\nkeep\n";
        let out = replace_section(doc, "## pack", "## pack\nnew\n");
        assert_eq!(out, "# B\n\n## pack\nnew\n\n## verify\nkeep\n");
        let appended = replace_section("# B\n", "## pack", "## pack\nnew\n");
        assert_eq!(appended, "# B\n\n## pack\nnew\n");
    }

    #[test]
    fn today_is_a_plausible_date() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.as_str() >= "2024-01-01", "{d}");
    }
}
