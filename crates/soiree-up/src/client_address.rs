//! The client's address on API hosts, as Sandstorm's gateway takes it (grain-runtime.md §4.4):
//! `X-Real-IP` believed only from a proxy on this machine or network, handed to the grain only
//! when the client opts in with `X-Sandstorm-Passthrough: address`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a peer's own `X-Real-IP` is believed: loopback, RFC 1918, link-local or v6 ULA, the
/// addresses a reverse proxy in front of the gateway has (anyone else could claim any address).
pub fn trusts_real_ip_from(peer: IpAddr) -> bool {
    fn v4(a: Ipv4Addr) -> bool {
        a.is_loopback() || a.is_private() || a.is_link_local()
    }
    match peer {
        IpAddr::V4(a) => v4(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(m) => v4(m),
            None => {
                let first = a.segments()[0];
                a.is_loopback() || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80
            }
        },
    }
}

/// The client's address: the socket peer, or the `X-Real-IP` a trusted peer sends for it.
pub fn real_ip(peer: IpAddr, headers: &hyper::HeaderMap) -> IpAddr {
    if !trusts_real_ip_from(peer) {
        return peer;
    }
    headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

/// Whether `X-Sandstorm-Passthrough` holds the comma-separated item `address`.
pub fn passes_address(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all("x-sandstorm-passthrough")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case("address"))
}

/// The address as `IpAddress` carries it: IPv6 bits, IPv4 mapped, as `(upper64, lower64)`.
pub fn as_v6_halves(ip: IpAddr) -> (u64, u64) {
    let v6: Ipv6Addr = match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    };
    let bits = u128::from(v6);
    ((bits >> 64) as u64, bits as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> hyper::HeaderMap {
        let mut h = hyper::HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, hyper::header::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_client_supplied_real_ip_is_believed_only_from_a_nearby_proxy() {
        let h = headers(&[("x-real-ip", " 203.0.113.9 ")]);
        let said: IpAddr = "203.0.113.9".parse().unwrap();
        for near in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.0.1",
            "fe80::1",
            "fd00::1",
            "::ffff:192.168.0.2",
        ] {
            assert_eq!(real_ip(near.parse().unwrap(), &h), said, "{near}");
        }
        for far in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            let peer: IpAddr = far.parse().unwrap();
            assert_eq!(real_ip(peer, &h), peer, "{far}");
        }
        // Nothing, or nothing that is an address: the peer.
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(real_ip(lo, &headers(&[])), lo);
        assert_eq!(real_ip(lo, &headers(&[("x-real-ip", "me")])), lo);
    }

    #[test]
    fn passthrough_is_an_item_of_a_comma_list() {
        assert!(passes_address(&headers(&[(
            "x-sandstorm-passthrough",
            "address"
        )])));
        assert!(passes_address(&headers(&[(
            "x-sandstorm-passthrough",
            "foo, Address"
        )])));
        assert!(passes_address(&headers(&[
            ("x-sandstorm-passthrough", "foo"),
            ("x-sandstorm-passthrough", "address")
        ])));
        assert!(!passes_address(&headers(&[(
            "x-sandstorm-passthrough",
            "addresses"
        )])));
        assert!(!passes_address(&headers(&[])));
    }

    #[test]
    fn ipv4_is_carried_mapped_as_the_schema_says() {
        assert_eq!(
            as_v6_halves("192.0.2.1".parse().unwrap()),
            (0, 0x0000_FFFF_C000_0201)
        );
        assert_eq!(
            as_v6_halves("1:2:3:4:5:6:7:8".parse().unwrap()),
            (0x0001_0002_0003_0004, 0x0005_0006_0007_0008)
        );
    }
}
