//! The relay's explicit limits and the per-player rate bucket that enforces one of them.

use std::time::{Duration, Instant};

/// What one player may do; each breach is logged with the player's address.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest datagram carried either way (bytes); bigger ones are dropped.
    pub max_datagram: usize,
    /// Players at once; one more is refused with 503.
    pub max_players: usize,
    /// A player who sends nothing for this long is disconnected.
    pub idle: Duration,
    /// Datagrams from the game waiting for a slow player; past it, new ones are dropped.
    pub queue: usize,
    /// Datagrams per second a player may send (a burst of one second is allowed).
    pub max_rate: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // ENet's largest MTU is 4096; WebSocket framing adds nothing to a datagram's size.
            max_datagram: 4096,
            max_players: 64,
            idle: Duration::from_secs(60),
            queue: 1024,
            max_rate: 50_000,
        }
    }
}

/// A token bucket of `rate` per second, holding at most a second's worth.
pub struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(rate: u32) -> Bucket {
        Bucket {
            rate: f64::from(rate),
            tokens: f64::from(rate),
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_seconds_burst_then_refuses() {
        let mut b = Bucket::new(100);
        let taken = (0..150).filter(|_| b.take()).count();
        assert!((100..=101).contains(&taken), "{taken}");
    }
}
