//! The tunnel's one-line status: players connected and the relay's round-trip time.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Stats(Rc<Inner>);

#[derive(Default)]
struct Inner {
    connected: Cell<usize>,
    rtt: Cell<Option<Duration>>,
    dropped: Cell<u64>,
}

impl Stats {
    pub fn connected(&self) -> usize {
        self.0.connected.get()
    }

    pub fn up(&self) {
        self.0.connected.set(self.0.connected.get() + 1);
    }

    pub fn down(&self) {
        self.0.connected.set(self.0.connected.get().saturating_sub(1));
    }

    pub fn rtt(&self, d: Duration) {
        self.0.rtt.set(Some(d));
    }

    pub fn dropped(&self) {
        self.0.dropped.set(self.0.dropped.get() + 1);
    }

    /// `2 players connected, round trip 0.41 ms`.
    pub fn line(&self) -> String {
        let n = self.connected();
        let mut s = format!("{n} player{} connected", if n == 1 { "" } else { "s" });
        if let Some(rtt) = self.0.rtt.get() {
            s.push_str(&format!(", round trip {:.2} ms", rtt.as_secs_f64() * 1000.0));
        }
        let dropped = self.0.dropped.get();
        if dropped > 0 {
            s.push_str(&format!(", {dropped} datagrams dropped while reconnecting"));
        }
        s
    }
}

/// Prints the status line when the number of players changes, and every `every` while any play.
pub async fn report(stats: Stats, every: Duration) {
    let mut last: Option<usize> = None;
    let mut since = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let n = stats.connected();
        if last != Some(n) || (n > 0 && since.elapsed() >= every) {
            eprintln!("soiree-tunnel: {}", stats.line());
            last = Some(n);
            since = tokio::time::Instant::now();
        }
    }
}
