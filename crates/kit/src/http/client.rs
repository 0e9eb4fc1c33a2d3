//! Who is asking: the client's address, from the connection or — only when the connection comes
//! from a configured trusted proxy (the ingress, `TRUSTED_PROXIES`) — from `X-Forwarded-For`.
//! Behind an ingress every connection comes from the ingress: without this every person would
//! share one address, and one person's failures would throttle everyone.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::HeaderMap;
use http::request::Parts;

/// The proxies whose `X-Forwarded-For` is believed; set once by the server for every request.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<ipnet::IpNet>>);

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: the peer's, or — when the peer is trusted — the rightmost address
    /// of `X-Forwarded-For` that is not itself a trusted proxy (entries to its left are whatever
    /// the client wrote).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .map(|v| v.parse::<IpAddr>().ok())
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        forwarded
            .into_iter()
            .rev()
            .find(|a| !self.trusts(*a))
            .unwrap_or(peer)
    }
}

/// The extractor: the client's address as [`TrustedProxies::client`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        let trusted = parts
            .extensions
            .get::<TrustedProxies>()
            .cloned()
            .unwrap_or_default();
        Ok(ClientAddress(trusted.client(peer, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let ingress: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = TrustedProxies(Arc::new(vec!["10.0.0.0/24".parse().unwrap()]));
        let none = TrustedProxies::default();
        let h = headers("203.0.113.9");
        assert_eq!(none.client(ingress, &h), ingress, "no proxy configured");
        assert_eq!(
            trusted.client(ingress, &h),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // A client that writes its own header gets its address from the ingress's entry.
        let spoofed = headers("1.2.3.4, 198.51.100.7");
        assert_eq!(
            trusted.client(ingress, &spoofed),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // A client connecting directly cannot claim another address.
        let direct: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(trusted.client(direct, &h), direct);
        // Garbage is not believed.
        assert_eq!(trusted.client(ingress, &headers("not-an-address")), ingress);
    }
}
