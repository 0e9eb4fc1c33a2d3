//! Client-side balancing for `dns:///host:port` addresses: the name (a Kubernetes headless
//! Service) is resolved every few seconds and the channel spreads calls over every address it
//! returns. One HTTP/2 connection to a Service's single virtual IP would send all of a client
//! pod's calls to one backend pod; this sends them to all of them, and follows pods as they
//! come and go.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint};

/// How often the name is resolved again (new pods start taking calls within this).
pub const RESOLVE_EVERY: Duration = Duration::from_secs(5);

/// The scheme of a balanced address, as gRPC's own naming spells it.
pub const SCHEME: &str = "dns:///";

/// `host` and `port` of a `dns:///host:port` address; `None` for any other address.
pub fn target(url: &str) -> Option<anyhow::Result<(String, u16)>> {
    let rest = url.strip_prefix(SCHEME)?;
    Some((|| {
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("{url}: expected dns:///host:port"))?;
        anyhow::ensure!(!host.is_empty(), "{url}: expected dns:///host:port");
        let port = port
            .parse()
            .map_err(|_| anyhow::anyhow!("{url}: the port is not a number"))?;
        Ok((host.to_string(), port))
    })())
}

/// A channel balancing over every address `host` resolves to, kept current by a task that
/// ends when the channel is dropped. `endpoint` sets each connection's timeouts.
pub fn channel(
    host: String,
    port: u16,
    endpoint: fn(String) -> anyhow::Result<Endpoint>,
) -> Channel {
    let name = host.clone();
    let resolve = move || {
        let host = host.clone();
        async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        }
    };
    balanced(resolve, name, endpoint, RESOLVE_EVERY)
}

/// A channel balancing over the addresses `resolve` answers, asked again every `every`;
/// `name` labels the `grpc_client_backends` gauge and the logs.
pub fn balanced<R, F>(
    resolve: R,
    name: String,
    endpoint: fn(String) -> anyhow::Result<Endpoint>,
    every: Duration,
) -> Channel
where
    R: Fn() -> F + Send + 'static,
    F: Future<Output = std::io::Result<HashSet<SocketAddr>>> + Send,
{
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(64);
    tokio::spawn(async move {
        let mut known: HashSet<SocketAddr> = HashSet::new();
        loop {
            match resolve().await {
                // An empty answer keeps the addresses known: calls then fail on a connection
                // rather than wait for an address that may never come.
                Ok(found) if !found.is_empty() => {
                    for gone in known.difference(&found) {
                        if changes.send(Change::Remove(*gone)).await.is_err() {
                            return;
                        }
                    }
                    for new in found.difference(&known) {
                        let Ok(endpoint) = endpoint(format!("http://{new}")) else {
                            continue;
                        };
                        if changes.send(Change::Insert(*new, endpoint)).await.is_err() {
                            return;
                        }
                    }
                    metrics::gauge!("grpc_client_backends", "host" => name.clone())
                        .set(found.len() as f64);
                    known = found;
                }
                Ok(_) => {
                    tracing::warn!(host = %name, "a balanced gRPC address resolved to nothing; keeping the last addresses")
                }
                Err(e) => {
                    tracing::warn!(host = %name, error = %e, "resolving a balanced gRPC address failed")
                }
            }
            tokio::time::sleep(every).await;
            if changes.is_closed() {
                return;
            }
        }
    });
    channel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dns_addresses_are_balanced_and_a_bad_one_is_named() {
        assert!(target("http://capture:50053").is_none());
        assert_eq!(
            target("dns:///capture-grpc.conoceles.svc.cluster.local:50053")
                .unwrap()
                .unwrap(),
            (
                "capture-grpc.conoceles.svc.cluster.local".to_string(),
                50053
            )
        );
        let bad = target("dns:///capture").unwrap().unwrap_err().to_string();
        assert!(bad.contains("dns:///host:port"), "{bad}");
        assert!(target("dns:///capture:grpc").unwrap().is_err());
    }
}
