//! Which grain ports `run` makes reachable from the host, and where: `7777`, `7777:17777`
//! (grain port, then host port; 0 picks a free one).

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// A grain port reachable at a host loopback port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    pub proto: Proto,
    /// The port a service listens on inside the grain (127.0.0.1).
    pub grain: u16,
    /// The host's 127.0.0.1 port; 0 picks a free one.
    pub host: u16,
}

impl Publish {
    pub fn tcp(grain: u16, host: u16) -> Publish {
        Publish {
            proto: Proto::Tcp,
            grain,
            host,
        }
    }

    pub fn udp(grain: u16, host: u16) -> Publish {
        Publish {
            proto: Proto::Udp,
            grain,
            host,
        }
    }

    /// `GRAIN[:HOST]` for `proto`.
    pub fn parse(proto: Proto, spec: &str) -> Result<Publish, String> {
        let port =
            |s: &str| u16::from_str(s).map_err(|_| format!("`{s}` in `{spec}` is not a port (0-65535)"));
        let (grain, host) = match spec.split_once(':') {
            Some((g, h)) => (port(g)?, port(h)?),
            None => {
                let p = port(spec)?;
                (p, p)
            }
        };
        if grain == 0 {
            return Err(format!("`{spec}`: the grain port cannot be 0"));
        }
        Ok(Publish { proto, grain, host })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grain_then_host_port() {
        assert_eq!(Publish::parse(Proto::Udp, "7777"), Ok(Publish::udp(7777, 7777)));
        assert_eq!(Publish::parse(Proto::Tcp, "8000:0"), Ok(Publish::tcp(8000, 0)));
        assert!(Publish::parse(Proto::Tcp, "0").is_err());
        assert!(Publish::parse(Proto::Tcp, "8000:x").is_err());
        assert!(Publish::parse(Proto::Tcp, "70000").is_err());
    }
}
