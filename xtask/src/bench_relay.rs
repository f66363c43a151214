//! `cargo xtask bench relay`: UDP echo through `soiree-tunnel` and `soiree-relay` (release
//! builds, loopback) against the same echo reached directly, in the same run; writes the
//! `## relay` section of docs/benchmarks.md.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench_report;

const PAYLOAD: usize = 200;
const PLAYERS: usize = 32;
const PLAYER_RATE: u64 = 60;

#[derive(Debug, Clone)]
pub struct Options {
    /// Round trips timed one at a time, per path.
    pub samples: usize,
    /// Datagrams sent for the throughput figure.
    pub datagrams: u64,
    /// Seconds of the 32-player run.
    pub seconds: u64,
    /// Whole measurements, each with a fresh relay and tunnel.
    pub runs: usize,
    pub no_docs: bool,
}

/// A UDP echo "game"; its port.
fn echo() -> Result<u16, String> {
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = s.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    });
    Ok(port)
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program` and returns it with the first line of its stderr that contains `marker`.
fn start(program: &Path, args: &[&str], marker: &str) -> Result<(Proc, String), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(&marker) {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .map_err(|_| format!("{} did not start", program.display()))?;
    Ok((Proc(child), line))
}

fn port_after(line: &str, prefix: &str) -> Result<u16, String> {
    line.split(prefix)
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("no port in {line:?}"))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// Round trips one at a time; sorted.
fn ping_pong(port: u16, samples: usize) -> Result<Vec<Duration>, String> {
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    s.connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(samples);
    let mut buf = [0u8; 2048];
    let mut payload = [0x5au8; PAYLOAD];
    // The first few open the tunnel's WebSocket: not measured.
    for i in 0..(samples + 200) {
        payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let t = Instant::now();
        s.send(&payload).map_err(|e| e.to_string())?;
        loop {
            let n = s.recv(&mut buf).map_err(|e| format!("round trip {i}: {e}"))?;
            if n == PAYLOAD && buf[..8] == payload[..8] {
                break;
            }
        }
        if i >= 200 {
            out.push(t.elapsed());
        }
    }
    out.sort();
    Ok(out)
}

/// Datagrams per second with `window` in flight, over `count` datagrams; and how many came back.
fn throughput(port: u16, count: u64, window: u64) -> Result<(f64, u64), String> {
    let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    s.connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .map_err(|e| e.to_string())?;
    let payload = [0xa5u8; PAYLOAD];
    let mut buf = [0u8; 2048];
    let (mut sent, mut got) = (0u64, 0u64);
    let start = Instant::now();
    while got < count {
        while sent < count && sent - got < window {
            s.send(&payload).map_err(|e| e.to_string())?;
            sent += 1;
        }
        match s.recv(&mut buf) {
            Ok(_) => got += 1,
            // A lost datagram: count it as answered so the window moves on.
            Err(_) if sent == count => break,
            Err(_) => got = sent.min(got + window),
        }
    }
    let rate = got as f64 / start.elapsed().as_secs_f64();
    Ok((rate, got))
}

/// `PLAYERS` sockets, each sending `PLAYER_RATE` datagrams/s for `secs`: latencies (sorted),
/// sent and received.
fn players(port: u16, secs: u64) -> Result<(Vec<Duration>, u64, u64), String> {
    let epoch = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for p in 0..PLAYERS {
        let s = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        s.connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        let r = s.try_clone().map_err(|e| e.to_string())?;
        let count = secs * PLAYER_RATE;
        let received = received.clone();
        let reader = std::thread::spawn(move || {
            let mut lat = Vec::new();
            let mut buf = [0u8; 2048];
            let deadline = Instant::now() + Duration::from_secs(secs + 3);
            while Instant::now() < deadline && (lat.len() as u64) < count {
                if let Ok(n) = r.recv(&mut buf) {
                    if n == PAYLOAD {
                        let sent = u64::from_be_bytes(buf[8..16].try_into().unwrap_or_default());
                        let now = epoch.elapsed().as_nanos() as u64;
                        lat.push(Duration::from_nanos(now.saturating_sub(sent)));
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        });
        let writer = std::thread::spawn(move || {
            let mut payload = [0u8; PAYLOAD];
            payload[0] = p as u8;
            // Spread the players over the first interval.
            let offset = Duration::from_micros(1_000_000 / PLAYER_RATE * p as u64 / PLAYERS as u64);
            let start = Instant::now() + offset;
            for k in 0..count {
                let at = start + Duration::from_micros(k * 1_000_000 / PLAYER_RATE);
                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                payload[8..16].copy_from_slice(&(epoch.elapsed().as_nanos() as u64).to_be_bytes());
                let _ = s.send(&payload);
            }
            count
        });
        threads.push((reader, writer));
    }
    let mut all = Vec::new();
    let mut sent = 0;
    for (r, w) in threads {
        sent += w.join().map_err(|_| "a player thread panicked")?;
        all.extend(r.join().map_err(|_| "a player thread panicked")?);
    }
    all.sort();
    Ok((all, sent, received.load(Ordering::Relaxed)))
}

fn build(root: &Path) -> Result<PathBuf, String> {
    let ok = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["build", "--release", "-p", "soiree-relay", "-p", "soiree-tunnel"])
        .status()
        .map_err(|e| e.to_string())?
        .success();
    if !ok {
        return Err("cargo build --release -p soiree-relay -p soiree-tunnel failed".into());
    }
    Ok(root.join("target/release"))
}

/// One run's figures: a fresh relay and tunnel, every measurement once.
struct Figures {
    direct: Vec<Duration>,
    through: Vec<Duration>,
    direct_rate: f64,
    rate: f64,
    rate_got: u64,
    rate2: f64,
    d32: Vec<Duration>,
    d32_sent: u64,
    d32_got: u64,
    t32: Vec<Duration>,
    t32_sent: u64,
    t32_got: u64,
    /// Relay VmRSS after the round trips, each throughput run and the players, in KiB.
    rss: [u64; 4],
}

impl Figures {
    fn one_p99(&self) -> Duration {
        added(0.99, &self.direct, &self.through)
    }

    fn many_p99(&self) -> Duration {
        added(0.99, &self.d32, &self.t32)
    }

    fn rss_flat(&self) -> bool {
        self.rss[2] <= self.rss[1] + self.rss[1] / 10
    }

    fn met(&self, datagrams: u64) -> [bool; 5] {
        [
            self.one_p99() <= Duration::from_millis(1),
            self.rate >= 20_000.0 && self.rate_got == datagrams,
            self.many_p99() <= Duration::from_millis(2),
            self.t32_got == self.t32_sent,
            self.rss_flat(),
        ]
    }
}

fn added(p: f64, direct: &[Duration], through: &[Duration]) -> Duration {
    percentile(through, p).saturating_sub(percentile(direct, p))
}

fn measure(bin: &Path, opts: &Options) -> Result<Figures, String> {
    let game = echo()?;
    let game_s = game.to_string();
    let (relay, line) = start(
        &bin.join("soiree-relay"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--game-port",
            &game_s,
            "--no-wake-lock",
            "--max-rate",
            "1000000",
        ],
        "listening on",
    )?;
    let relay_port = port_after(&line, "listening on 127.0.0.1:")?;
    // No gateway here: the relay sees the path the tunnel sends.
    let url = format!("http://127.0.0.1:{relay_port}/");
    let (_tunnel, line) = start(
        &bin.join("soiree-tunnel"),
        &[&url, "--listen", "127.0.0.1:0"],
        "point the game at",
    )?;
    let tunnel = port_after(&line, "point the game at 127.0.0.1:")?;

    let direct = ping_pong(game, opts.samples)?;
    let through = ping_pong(tunnel, opts.samples)?;
    let rss_before = rss_kib(relay.0.id());
    let (direct_rate, _) = throughput(game, opts.datagrams, 32)?;
    let (rate, rate_got) = throughput(tunnel, opts.datagrams, 32)?;
    let rss_mid = rss_kib(relay.0.id());
    let (rate2, _) = throughput(tunnel, opts.datagrams, 32)?;
    let rss_after = rss_kib(relay.0.id());
    let (d32, d32_sent, d32_got) = players(game, opts.seconds)?;
    let (t32, t32_sent, t32_got) = players(tunnel, opts.seconds)?;
    let rss_players = rss_kib(relay.0.id());
    Ok(Figures {
        direct,
        through,
        direct_rate,
        rate,
        rate_got,
        rate2,
        d32,
        d32_sent,
        d32_got,
        t32,
        t32_sent,
        t32_got,
        rss: [rss_before, rss_mid, rss_after, rss_players],
    })
}

pub fn run(root: &Path, opts: &Options, command: &[String]) -> Result<String, String> {
    let bin = build(root)?;
    let mut runs = Vec::new();
    for _ in 0..opts.runs.max(1) {
        runs.push(measure(&bin, opts)?);
    }
    // The table shows the run whose 32-player tail is the median one: tails are what vary
    // between runs on a shared machine, and every run is listed after the table.
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|&i| runs[i].many_p99());
    let f = &runs[order[order.len() / 2]];
    let load = |s: &str| {
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| s.into())
    };
    let met_all = |i: usize| runs.iter().filter(|r| r.met(opts.datagrams)[i]).count();
    let verdict = |i: usize| {
        let n = met_all(i);
        if n == runs.len() {
            "met".to_string()
        } else {
            format!("NOT met in {} of {} runs", runs.len() - n, runs.len())
        }
    };
    let mut out = String::new();
    out.push_str("## relay\n\n");
    out.push_str(&format!(
        "UDP echo through `soiree-tunnel` → WebSocket → `soiree-relay` → UDP (release builds, loopback, no gateway or bridge between them) against the same echo reached directly, in the same run; {PAYLOAD}-byte datagrams. Added latency is the tunnel's percentile minus the direct one. The relay runs with `--max-rate 1000000` (its default per-player limit, 50,000 datagrams/s, is what a flood test meets). Relay memory is its VmRSS. Each run starts a fresh relay and tunnel; the table is the run with the median 32-player tail, and a target counts as met only if every run met it.\n\n"
    ));
    out.push_str(&format!("- date: {}\n", bench_report::today()));
    out.push_str(&format!("- command: `cargo xtask {}`\n", command.join(" ")));
    out.push_str(&format!(
        "- nproc: {}\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    ));
    out.push_str(&format!("- runs: {}\n", runs.len()));
    out.push_str(&format!("- load average after the runs: {}\n\n", load("?")));
    out.push_str(
        "| figure | direct | through tunnel + relay | added | target | every run |\n|---|--:|--:|--:|--:|---|\n",
    );
    out.push_str(&format!(
        "| one player, round trip p50 ({} samples, one in flight) | {} | {} | {} | | |\n",
        opts.samples,
        us(percentile(&f.direct, 0.5)),
        us(percentile(&f.through, 0.5)),
        us(added(0.5, &f.direct, &f.through))
    ));
    out.push_str(&format!(
        "| one player, round trip p99 | {} | {} | {} | ≤ 1 ms | {} |\n",
        us(percentile(&f.direct, 0.99)),
        us(percentile(&f.through, 0.99)),
        us(f.one_p99()),
        verdict(0)
    ));
    out.push_str(&format!(
        "| one player, datagrams/s echoed (32 in flight, {} datagrams) | {:.0} | {:.0} | | ≥ 20,000 | {} |\n",
        opts.datagrams,
        f.direct_rate,
        f.rate,
        verdict(1)
    ));
    out.push_str(&format!(
        "| {PLAYERS} players × {PLAYER_RATE}/s for {} s, one-way-and-back p99 | {} | {} | {} | ≤ 2 ms | {} |\n",
        opts.seconds,
        us(percentile(&f.d32, 0.99)),
        us(percentile(&f.t32, 0.99)),
        us(f.many_p99()),
        verdict(2)
    ));
    out.push_str(&format!(
        "| {PLAYERS} players, datagrams back / sent | {} / {} | {} / {} | | no loss | {} |\n",
        f.d32_got,
        f.d32_sent,
        f.t32_got,
        f.t32_sent,
        verdict(3)
    ));
    out.push_str(&format!(
        "| relay VmRSS: after the round trips / after {} more datagrams / after {} more / after the {PLAYERS} players | | {} / {} / {} / {} KiB | | flat (≤ +10% over the second {}) | {} |\n",
        opts.datagrams,
        opts.datagrams,
        f.rss[0],
        f.rss[1],
        f.rss[2],
        f.rss[3],
        opts.datagrams,
        verdict(4)
    ));
    out.push_str(&format!(
        "\nA second throughput run right after the first: {:.0} datagrams/s.\n",
        f.rate2
    ));
    if runs.len() > 1 {
        out.push_str(
            "\n| run | one player p99 added | datagrams/s | 32 players p99 added | back / sent |\n|--:|--:|--:|--:|--:|\n",
        );
        for (i, r) in runs.iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | {:.0} | {} | {} / {} |\n",
                i + 1,
                us(r.one_p99()),
                r.rate,
                us(r.many_p99()),
                r.t32_got,
                r.t32_sent
            ));
        }
    }
    if !opts.no_docs {
        let path = root.join("docs/benchmarks.md");
        let doc = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(&path, bench_report::replace_section(&doc, "## relay", &out))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(out)
}
