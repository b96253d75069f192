//! Which address a request comes from: the TCP peer, unless the peer is one
//! of the configured trusted reverse proxies — then the rightmost address in
//! `Forwarded` (RFC 7239 §4, preferred) or `X-Forwarded-For` that is not
//! itself a trusted proxy. Addresses a client wrote into those headers
//! before the first trusted hop are never believed, so a client cannot
//! choose its own rate-limit bucket.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The configured trusted proxies (`GOVSEAL_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts the proxies in `networks`.
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let Some(hops) = forwarded_hops(headers).or_else(|| x_forwarded_for_hops(headers)) else {
            return client;
        };
        for hop in hops.into_iter().rev() {
            match hop {
                Some(ip) => {
                    client = ip.to_canonical();
                    if !self.trusts(client) {
                        return client;
                    }
                }
                // "unknown", an obfuscated name or garbage: the trusted hop
                // that passed it on is as far as we can see.
                None => return client,
            }
        }
        client
    }
}

/// The `for=` addresses of every `Forwarded` element, in order; `None` if
/// the header is absent.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    let mut present = false;
    for value in headers.get_all(axum::http::header::FORWARDED) {
        present = true;
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in text.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"'))
            });
            hops.push(node.and_then(parse_node));
        }
    }
    present.then_some(hops)
}

/// The addresses of `X-Forwarded-For`, in order; `None` if absent.
fn x_forwarded_for_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    let mut present = false;
    for value in headers.get_all("x-forwarded-for") {
        present = true;
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(text.split(',').map(|hop| parse_node(hop.trim())));
    }
    present.then_some(hops)
}

/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]` or
/// `[2001:db8::1]:8080`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|v6| v6.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// The rate-limit bucket of an address: IPv4 as it is, IPv6 by its /64
/// (one subscriber's prefix: a host that rotates through its /64 stays in
/// one bucket and cannot fill the limiter's memory).
pub fn bucket(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        h
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(p.client_address(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::default().client_address(ip("10.1.1.1"), &h),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8", "192.168.1.1/32"]);
        // The client forged the first entry; the proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.2.3.4")]);
        assert_eq!(p.client_address(ip("192.168.1.1"), &h), ip("198.51.100.7"));
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(p.client_address(ip("10.9.9.9"), &h), ip("198.51.100.7"));
        // Only trusted hops: the leftmost is as far as anyone vouches.
        let h = headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]);
        assert_eq!(p.client_address(ip("10.9.9.9"), &h), ip("10.1.1.1"));
        // No header: the proxy itself.
        assert_eq!(
            p.client_address(ip("10.9.9.9"), &HeaderMap::new()),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn forwarded_is_preferred_and_parsed_with_ports_and_brackets() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.2",
            ),
        ]);
        assert_eq!(
            p.client_address(ip("10.0.0.1"), &h),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=198.51.100.3:1234;by=10.0.0.1")]);
        assert_eq!(p.client_address(ip("10.0.0.1"), &h), ip("198.51.100.3"));
        // An obfuscated hop stops the walk at the trusted proxy before it.
        let h = headers(&[("forwarded", "for=1.2.3.4, for=_hidden, for=10.0.0.7")]);
        assert_eq!(p.client_address(ip("10.0.0.1"), &h), ip("10.0.0.7"));
        let h = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(p.client_address(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn mapped_v4_is_v4_and_v6_buckets_by_prefix() {
        let p = proxies(&["127.0.0.1/32"]);
        assert_eq!(
            p.client_address(ip("::ffff:203.0.113.1"), &HeaderMap::new()),
            ip("203.0.113.1")
        );
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("198.51.100.1")), ip("198.51.100.1"));
    }
}
