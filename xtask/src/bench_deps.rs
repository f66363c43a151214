//! `cargo xtask bench deps [--program PATH] [--runs N]`: how long soiree-deps takes to find the
//! run-time closure of a real program (default `/usr/bin/godot3-server`, about 40 libraries),
//! beside `ldd` on the same program in the same run. The target is a median under 50 ms.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGET: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub program: PathBuf,
    pub runs: usize,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the benchmark and returns its report.
pub fn run(opts: &Options) -> Result<String, String> {
    if !opts.program.exists() {
        return Err(format!(
            "{} is missing (apt-get install godot3-server, or pass --program PATH)",
            opts.program.display()
        ));
    }
    let options = soiree_deps::Options::default();
    let mut ours = Vec::with_capacity(opts.runs);
    let mut closure = None;
    for _ in 0..opts.runs {
        let start = Instant::now();
        let c = soiree_deps::closure(&[&opts.program], &options)
            .map_err(|e| format!("closure of {}: {e}", opts.program.display()))?;
        ours.push(start.elapsed());
        closure = Some(c);
    }
    let closure = closure.ok_or("no run")?;
    let libraries = closure
        .objects
        .values()
        .filter(|o| o.kind == soiree_deps::ObjectKind::Elf && o.path != opts.program)
        .count();

    let mut ldd = Vec::with_capacity(opts.runs);
    for _ in 0..opts.runs {
        let start = Instant::now();
        let status = Command::new("ldd")
            .arg(&opts.program)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("ldd: {e}"))?;
        ldd.push(start.elapsed());
        if !status.success() {
            return Err(format!("ldd {} failed: {status}", opts.program.display()));
        }
    }

    let ours_median = median(ours.clone());
    let verdict = if ours_median < TARGET { "under" } else { "OVER" };
    Ok(format!(
        "bench deps: closure of {} ({} libraries with the loader, {} package entries), {} runs\n\
         \x20 soiree-deps closure  median {}  min {}  max {}\n\
         \x20 ldd                  median {}  min {}  max {}\n\
         \x20 target {}: {verdict}\n",
        opts.program.display(),
        libraries,
        closure.entries.len(),
        opts.runs,
        ms(ours_median),
        ms(ours.iter().copied().min().unwrap_or_default()),
        ms(ours.iter().copied().max().unwrap_or_default()),
        ms(median(ldd.clone())),
        ms(ldd.iter().copied().min().unwrap_or_default()),
        ms(ldd.iter().copied().max().unwrap_or_default()),
        ms(TARGET),
    ))
}
