//! Configuration from the environment, with the documented defaults of DESIGN §3.
//!
//! Every service reads the same variables (each container has its own environment):
//!
//! | variable | default |
//! |---|---|
//! | `BIND_ADDRESS` | `127.0.0.1` |
//! | `HTTP_PORT` | the service's HTTP port (publication 8080, capture 8081, statistics 8082) |
//! | `OPS_PORT` | the service's ops port (9051–9056) |
//! | `GRPC_PORT` | the service's gRPC port (50051–50056) |
//! | `DATABASE_URL` | `postgres://conoceles_<service>:conoceles_<service>@127.0.0.1:5432/conoceles_<service>` |
//! | `DATABASE_MAX_CONNECTIONS` | `10`: the service's pool of PostgreSQL connections (a replica's share of the server's `max_connections`, or of a pooler's) |
//! | `AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672/%2f` |
//! | `AMQP_NAMESPACE` | `conoceles` (exchanges `<ns>.events`, `<ns>.dead`; queues `<ns>.<service>.<name>`) |
//! | `REDIS_URL` | `redis://127.0.0.1:6379/` |
//! | `REDIS_KEY_PREFIX` | `conoceles:<service>:` |
//! | `SHUTDOWN_GRACE_SECONDS` | `8` |
//! | `AUTH_GRPC_URL` | `http://127.0.0.1:50051` (where service-token verification keys come from) |
//! | `IDENTITY_GRPC_URL` | `http://127.0.0.1:50052` (for the services that may call `identity`) |
//! | `CAPTURE_GRPC_URL` | `http://127.0.0.1:50053` (for the services that read from `capture`) |
//! | `VALIDATION_GRPC_URL` | `http://127.0.0.1:50054` (for the capture front's review pages) |
//! | `STATISTICS_GRPC_URL` | `http://127.0.0.1:50056` (the public site's statistics page, the back office's reports) |
//! | `SERVICE_SECRET` | unset: the service cannot obtain tokens to call other services |
//! | `CONOCELES_ALLOW_DEMO_SECRETS` | unset: a service refuses to start with a published demo secret (compose's fallbacks, the Kubernetes dev placeholders: [`is_demo_secret`]); `1` only for a demonstration on one's own machine |
//! | `TRUSTED_PROXIES` | unset: the client's address is the connection's; a comma-separated list of addresses or networks (`10.0.0.0/8`) of the ingress, whose `X-Forwarded-For` is then believed |
//! | `CDN_PURGE_URL` | unset: no CDN is told to forget pages (publication); an `http(s)://` URL that takes `POST` with the surrogate keys to purge |
//! | `CDN_PURGE_TOKEN` | unset; sent as `Authorization: Bearer` with each purge |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset: traces are not exported |
//! | `CLOCK_OFFSET_SECONDS` | unset: the calendar's clock is the system's (capture reads it through `clock::now`; set it only to rehearse a calendar on a copy of the system, never in production) |
//!
//! TLS is configuration: `DATABASE_URL` takes libpq's `sslmode` (`require`, `verify-ca`,
//! `verify-full`) and `sslrootcert`; `REDIS_URL` is `rediss://` for TLS; `AMQP_URL` `amqps://`.
//! Certificates are verified against the system's roots, to which `SSL_CERT_FILE` adds a private
//! CA's.
//!
//! A port of `0` asks the operating system for a free one (tests do this). URLs carry passwords,
//! so they are kept as secrets: `Debug` prints `[REDACTED]`.

use std::net::IpAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// The six services and their default ports (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceName {
    Auth,
    Identity,
    Capture,
    Validation,
    Publication,
    Statistics,
}

/// The ports a service listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Only the services with a front or an HTTP API have one.
    pub http: Option<u16>,
    pub ops: u16,
    pub grpc: u16,
}

impl ServiceName {
    pub const ALL: [ServiceName; 6] = [
        ServiceName::Auth,
        ServiceName::Identity,
        ServiceName::Capture,
        ServiceName::Validation,
        ServiceName::Publication,
        ServiceName::Statistics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Auth => "auth",
            ServiceName::Identity => "identity",
            ServiceName::Capture => "capture",
            ServiceName::Validation => "validation",
            ServiceName::Publication => "publication",
            ServiceName::Statistics => "statistics",
        }
    }

    pub fn default_ports(self) -> Ports {
        let (http, ops, grpc) = match self {
            ServiceName::Auth => (None, 9051, 50051),
            ServiceName::Identity => (None, 9052, 50052),
            ServiceName::Capture => (Some(8081), 9053, 50053),
            ServiceName::Validation => (None, 9054, 50054),
            ServiceName::Publication => (Some(8080), 9055, 50055),
            ServiceName::Statistics => (Some(8082), 9056, 50056),
        };
        Ports { http, ops, grpc }
    }

    /// The database (and role) the service owns.
    pub fn database(self) -> String {
        format!("conoceles_{}", self.as_str())
    }
}

impl std::fmt::Display for ServiceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {key}: {reason}")]
pub struct ConfigError {
    pub key: &'static str,
    pub reason: String,
}

/// What every service needs to start.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub service: ServiceName,
    pub bind_address: IpAddr,
    pub ports: Ports,
    pub database_url: SecretString,
    /// The size of the service's PostgreSQL pool.
    pub database_max_connections: u32,
    pub amqp_url: SecretString,
    pub amqp_namespace: String,
    pub redis_url: SecretString,
    pub redis_key_prefix: String,
    pub shutdown_grace: Duration,
    pub otlp_endpoint: Option<String>,
    pub auth_url: String,
    /// Where `identity` answers (for the services allowed to call it).
    pub identity_url: String,
    /// Where `capture` answers (for the services that read from it).
    pub capture_url: String,
    /// Where `validation` answers (for the capture front's review pages).
    pub validation_url: String,
    /// Where `statistics` answers (for the public site's statistics page).
    pub statistics_url: String,
    pub service_secret: Option<SecretString>,
    /// The proxies whose `X-Forwarded-For` names the client (the ingress).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where citizens reach the public site (`PUBLIC_SITE_URL`), without a trailing slash: the
    /// back office links its preview there.
    pub public_site_url: String,
    /// Where people reach the capture back office (`CAPTURE_PUBLIC_URL`), without a trailing
    /// slash: printed on credential sheets and used to come back from the site's preview.
    pub capture_public_url: String,
    /// How many requests the public site serves at once before it sheds (`MAX_IN_FLIGHT`);
    /// `None`: the service's own default.
    pub max_in_flight: Option<usize>,
    /// The most the public site's page cache holds, in MiB (`PAGE_CACHE_MIB`); `None`: the
    /// service's own default.
    pub page_cache_mib: Option<usize>,
    /// How many connections an HTTP front holds open at once (`MAX_CONNECTIONS`); `None`:
    /// `http::serve::DEFAULT_MAX_CONNECTIONS`.
    pub max_connections: Option<usize>,
    /// The seed that signs the open-data releases (`PUBLICATION_SIGNING_KEY`, base64 of 32
    /// bytes); `None` in development, where publication keeps one of its own.
    pub publication_signing_key: Option<SecretString>,
    /// Where publication tells the CDN in front of the site which pages to forget
    /// (`CDN_PURGE_URL`, with `CDN_PURGE_TOKEN`); `None`: no CDN, nothing to tell.
    pub cdn_purge: Option<CdnPurge>,
    /// Where capture sends its mail (`SMTP_URL`: `smtp://host:port` without encryption,
    /// `smtp://host:587?tls=required` with STARTTLS, `smtps://host:465`; credentials as
    /// `smtp://user:password@host`); `None`: mail is queued and waits until one is configured.
    pub smtp_url: Option<SecretString>,
    /// The sender of capture's mail (`MAIL_FROM`).
    pub mail_from: String,
}

/// A CDN's purge endpoint and its credential.
#[derive(Debug, Clone)]
pub struct CdnPurge {
    pub url: String,
    pub token: Option<SecretString>,
}

impl ServiceConfig {
    /// Reads the process environment.
    pub fn from_env(service: ServiceName) -> Result<Self, ConfigError> {
        Self::from_lookup(service, |key| std::env::var(key).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(
        service: ServiceName,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let defaults = service.default_ports();
        let port = |key: &'static str, default: u16| -> Result<u16, ConfigError> {
            match get(key) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| ConfigError {
                    key,
                    reason: format!("expected a port number (0-65535), got {v:?}"),
                }),
            }
        };
        let bind_address = match get("BIND_ADDRESS") {
            None => IpAddr::from([127, 0, 0, 1]),
            Some(v) => v.trim().parse().map_err(|_| ConfigError {
                key: "BIND_ADDRESS",
                reason: format!("expected an IP address, got {v:?}"),
            })?,
        };
        let ports = Ports {
            http: match defaults.http {
                Some(default) => Some(port("HTTP_PORT", default)?),
                None => None,
            },
            ops: port("OPS_PORT", defaults.ops)?,
            grpc: port("GRPC_PORT", defaults.grpc)?,
        };
        let db = service.database();
        let database_url = get("DATABASE_URL")
            .unwrap_or_else(|| format!("postgres://{db}:{db}@127.0.0.1:5432/{db}"));
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(ConfigError {
                key: "DATABASE_URL",
                reason: "expected a postgres:// URL".into(),
            });
        }
        let amqp_url =
            get("AMQP_URL").unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        if !amqp_url.starts_with("amqp://") && !amqp_url.starts_with("amqps://") {
            return Err(ConfigError {
                key: "AMQP_URL",
                reason: "expected an amqp:// or amqps:// URL".into(),
            });
        }
        let redis_url = get("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379/".into());
        if !redis_url.starts_with("redis://") && !redis_url.starts_with("rediss://") {
            return Err(ConfigError {
                key: "REDIS_URL",
                reason: "expected a redis:// or rediss:// URL".into(),
            });
        }
        let amqp_namespace = get("AMQP_NAMESPACE").unwrap_or_else(|| "conoceles".into());
        if !amqp_namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ConfigError {
                key: "AMQP_NAMESPACE",
                reason: "only letters, digits, '-', '_' and '.' are allowed".into(),
            });
        }
        let shutdown_grace = match get("SHUTDOWN_GRACE_SECONDS") {
            None => Duration::from_secs(8),
            Some(v) => Duration::from_secs(v.trim().parse().map_err(|_| ConfigError {
                key: "SHUTDOWN_GRACE_SECONDS",
                reason: format!("expected whole seconds, got {v:?}"),
            })?),
        };
        if let Some(secret) = get("SERVICE_SECRET") {
            refuse_demo_secret("SERVICE_SECRET", &secret, &lookup)?;
        }
        let trusted_proxies = get("TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<ipnet::IpNet>()
                    .or_else(|_| v.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| ConfigError {
                        key: "TRUSTED_PROXIES",
                        reason: format!("expected addresses or networks (10.0.0.0/8), got {v:?}"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let public_url = |key: &'static str, default: &str| -> Result<String, ConfigError> {
            let url = get(key).map_or_else(|| default.to_string(), |u| u.trim().to_string());
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(ConfigError {
                    key,
                    reason: format!("expected an http:// or https:// URL, got {url:?}"),
                });
            }
            Ok(url.trim_end_matches('/').to_string())
        };
        let database_max_connections = match get("DATABASE_MAX_CONNECTIONS") {
            None => 10,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ConfigError {
                    key: "DATABASE_MAX_CONNECTIONS",
                    reason: format!("expected a whole number from 1 to 1000, got {v:?}"),
                })?,
        };
        let positive = |key: &'static str| -> Result<Option<usize>, ConfigError> {
            match get(key) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Some)
                    .ok_or_else(|| ConfigError {
                        key,
                        reason: format!("expected a positive whole number, got {v:?}"),
                    }),
            }
        };
        let max_in_flight = positive("MAX_IN_FLIGHT")?;
        let page_cache_mib = positive("PAGE_CACHE_MIB")?;
        let max_connections = positive("MAX_CONNECTIONS")?;
        Ok(Self {
            service,
            bind_address,
            ports,
            database_url: database_url.into(),
            database_max_connections,
            amqp_url: amqp_url.into(),
            amqp_namespace,
            redis_url: redis_url.into(),
            redis_key_prefix: get("REDIS_KEY_PREFIX")
                .unwrap_or_else(|| format!("conoceles:{}:", service.as_str())),
            shutdown_grace,
            otlp_endpoint: get("OTEL_EXPORTER_OTLP_ENDPOINT"),
            auth_url: get("AUTH_GRPC_URL").unwrap_or_else(|| "http://127.0.0.1:50051".into()),
            identity_url: get("IDENTITY_GRPC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:50052".into()),
            capture_url: get("CAPTURE_GRPC_URL").unwrap_or_else(|| "http://127.0.0.1:50053".into()),
            validation_url: get("VALIDATION_GRPC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:50054".into()),
            statistics_url: get("STATISTICS_GRPC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:50056".into()),
            service_secret: get("SERVICE_SECRET").map(SecretString::from),
            trusted_proxies,
            public_site_url: public_url("PUBLIC_SITE_URL", "http://127.0.0.1:8080")?,
            capture_public_url: public_url("CAPTURE_PUBLIC_URL", "http://127.0.0.1:8081")?,
            max_in_flight,
            page_cache_mib,
            max_connections,
            publication_signing_key: get("PUBLICATION_SIGNING_KEY").map(SecretString::from),
            cdn_purge: match get("CDN_PURGE_URL") {
                None => None,
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Some(CdnPurge {
                        url: url.trim().to_string(),
                        token: get("CDN_PURGE_TOKEN").map(SecretString::from),
                    })
                }
                Some(_) => {
                    return Err(ConfigError {
                        key: "CDN_PURGE_URL",
                        reason: "expected an http:// or https:// URL".into(),
                    });
                }
            },
            smtp_url: match get("SMTP_URL") {
                None => None,
                Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
                    Some(SecretString::from(url.trim().to_string()))
                }
                Some(url) => {
                    return Err(ConfigError {
                        key: "SMTP_URL",
                        reason: format!(
                            "expected an smtp:// or smtps:// URL, got one starting {:?}",
                            url.chars().take(8).collect::<String>()
                        ),
                    });
                }
            },
            mail_from: get("MAIL_FROM").map_or_else(
                || "Conóceles <no-responder@conoceles.localhost>".to_string(),
                |v| v.trim().to_string(),
            ),
        })
    }

    /// Where the service's dependencies are, without credentials: safe to log.
    pub fn describe_endpoints(&self) -> String {
        format!(
            "database={} broker={} cache={}",
            strip_credentials(self.database_url.expose_secret()),
            strip_credentials(self.amqp_url.expose_secret()),
            strip_credentials(self.redis_url.expose_secret()),
        )
    }
}

/// Whether a secret is one the repository publishes (compose's fallbacks `demo-…-change-me`,
/// the Kubernetes dev placeholders `dev-only-…` and the keys whose bytes say `INSECURE`):
/// anyone can read it, so anyone holding it could mint tokens or open the identity answers.
pub fn is_demo_secret(value: &str) -> bool {
    use base64::Engine;
    let value = value.trim();
    let key = value.rsplit_once(':').map_or(value, |(_, key)| key);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map(|b| String::from_utf8_lossy(&b).to_ascii_uppercase())
        .unwrap_or_default();
    let lower = value.to_ascii_lowercase();
    lower.starts_with("demo-")
        || lower.starts_with("dev-only-")
        || lower.contains("change-me")
        || decoded.contains("INSECURE")
}

/// Refuses a published demo secret unless `CONOCELES_ALLOW_DEMO_SECRETS=1` says this is a
/// demonstration on one's own machine.
pub fn refuse_demo_secret(
    key: &'static str,
    value: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let allowed = lookup("CONOCELES_ALLOW_DEMO_SECRETS").is_some_and(|v| v.trim() == "1");
    if is_demo_secret(value) && !allowed {
        return Err(ConfigError {
            key,
            reason: "this is a demo secret published in the repository; set a secret of your own \
                     (or CONOCELES_ALLOW_DEMO_SECRETS=1 for a demonstration on your own machine)"
                .into(),
        });
    }
    Ok(())
}

/// `scheme://user:password@host/path` → `scheme://host/path`.
fn strip_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_repositorys_demo_secrets_are_refused_without_the_development_flag() {
        // Every secret compose falls back to and every dev placeholder of k8s.
        let mut published = Vec::new();
        for file in [
            include_str!("../../../compose.yaml"),
            include_str!("../../../k8s/placeholder-secrets/secrets.yaml"),
        ] {
            for line in file.lines() {
                for key in ["SERVICE_SECRET:", "AUTH_SIGNING_KEY:", "IDENTITY_KEK:"] {
                    if let Some(value) = line.trim().strip_prefix(key) {
                        let value = value.trim();
                        let value = value
                            .split_once(":-")
                            .map_or(value, |(_, v)| v.trim_end_matches('}'));
                        if !value.is_empty() {
                            published.push(value.to_string());
                        }
                    }
                }
            }
        }
        assert!(published.len() >= 8, "{published:?}");
        for value in &published {
            assert!(is_demo_secret(value), "{value} passes for a real secret");
        }
        let strict = |_: &str| None;
        let demo = |key: &str| (key == "CONOCELES_ALLOW_DEMO_SECRETS").then(|| "1".to_string());
        assert!(refuse_demo_secret("SERVICE_SECRET", &published[0], &strict).is_err());
        assert!(refuse_demo_secret("SERVICE_SECRET", &published[0], &demo).is_ok());
        let err = config(
            ServiceName::Capture,
            &[("SERVICE_SECRET", "demo-capture-secret-change-me")],
        );
        assert_eq!(err.unwrap_err().key, "SERVICE_SECRET");
        // A secret of one's own starts.
        assert!(!is_demo_secret("q8Yv2mR7kLp3Xw9Tz4Nc"));
        assert!(!is_demo_secret(
            "local-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        ));
    }

    fn config(service: ServiceName, vars: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServiceConfig::from_lookup(service, |k| map.get(k).cloned())
    }

    #[test]
    fn the_pool_size_is_read_and_bounded() {
        assert_eq!(
            config(ServiceName::Auth, &[])
                .unwrap()
                .database_max_connections,
            10
        );
        let four = config(ServiceName::Auth, &[("DATABASE_MAX_CONNECTIONS", "4")]).unwrap();
        assert_eq!(four.database_max_connections, 4);
        for bad in ["0", "-1", "diez", "5000"] {
            let err = config(ServiceName::Auth, &[("DATABASE_MAX_CONNECTIONS", bad)]).unwrap_err();
            assert_eq!(err.key, "DATABASE_MAX_CONNECTIONS", "{bad}");
        }
    }

    #[test]
    fn the_public_addresses_and_limits_are_read_once_and_checked() {
        let c = config(
            ServiceName::Publication,
            &[
                ("PUBLIC_SITE_URL", "https://candidaturas.iec.org.mx/"),
                ("CAPTURE_PUBLIC_URL", " https://captura.iec.org.mx "),
                ("MAX_IN_FLIGHT", "64"),
                ("PAGE_CACHE_MIB", "48"),
                ("MAX_CONNECTIONS", "1000"),
            ],
        )
        .unwrap();
        assert_eq!(c.public_site_url, "https://candidaturas.iec.org.mx");
        assert_eq!(c.capture_public_url, "https://captura.iec.org.mx");
        assert_eq!(c.max_in_flight, Some(64));
        assert_eq!(c.page_cache_mib, Some(48));
        assert_eq!(c.max_connections, Some(1000));
        assert!(c.publication_signing_key.is_none());
        assert!(c.smtp_url.is_none());
        let defaults = config(ServiceName::Capture, &[]).unwrap();
        assert_eq!(defaults.public_site_url, "http://127.0.0.1:8080");
        assert_eq!(defaults.capture_public_url, "http://127.0.0.1:8081");
        assert_eq!(defaults.max_in_flight, None);
        assert_eq!(defaults.page_cache_mib, None);
        for (key, value) in [
            ("MAX_IN_FLIGHT", "0"),
            ("MAX_IN_FLIGHT", "muchas"),
            ("PAGE_CACHE_MIB", "-1"),
            ("PUBLIC_SITE_URL", "candidaturas.iec.org.mx"),
            ("CAPTURE_PUBLIC_URL", "ftp://captura"),
        ] {
            let refused = config(ServiceName::Publication, &[(key, value)]).unwrap_err();
            assert_eq!(refused.key, key, "{value}");
        }
    }

    #[test]
    fn defaults_follow_the_design_port_table() {
        let publication = config(ServiceName::Publication, &[]).unwrap();
        assert_eq!(
            publication.ports,
            Ports {
                http: Some(8080),
                ops: 9055,
                grpc: 50055
            }
        );
        let identity = config(ServiceName::Identity, &[]).unwrap();
        assert_eq!(identity.ports.http, None);
        assert_eq!(identity.ports.grpc, 50052);
        assert_eq!(
            identity.database_url.expose_secret(),
            "postgres://conoceles_identity:conoceles_identity@127.0.0.1:5432/conoceles_identity"
        );
    }

    #[test]
    fn environment_overrides_defaults() {
        let c = config(
            ServiceName::Capture,
            &[
                ("HTTP_PORT", "0"),
                ("GRPC_PORT", "6000"),
                ("AMQP_NAMESPACE", "t-1"),
            ],
        )
        .unwrap();
        assert_eq!(c.ports.http, Some(0));
        assert_eq!(c.ports.grpc, 6000);
        assert_eq!(c.amqp_namespace, "t-1");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(ServiceName::Auth, &[("OPS_PORT", "http")]).unwrap_err();
        assert_eq!(err.key, "OPS_PORT");
        let err = config(ServiceName::Auth, &[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(err.key, "DATABASE_URL");
        let err = config(ServiceName::Auth, &[("AMQP_NAMESPACE", "a b")]).unwrap_err();
        assert_eq!(err.key, "AMQP_NAMESPACE");
        let err = config(
            ServiceName::Publication,
            &[("CDN_PURGE_URL", "cdn.example")],
        )
        .unwrap_err();
        assert_eq!(err.key, "CDN_PURGE_URL");
    }

    #[test]
    fn secrets_are_never_printed() {
        let c = config(
            ServiceName::Auth,
            &[
                ("DATABASE_URL", "postgres://u:hunter2@db:5432/x"),
                ("AMQP_URL", "amqp://u:s3cret@mq:5672/%2f"),
                ("REDIS_URL", "redis://:r3dis@cache:6379/"),
            ],
        )
        .unwrap();
        let printed = format!("{c:?} {}", c.describe_endpoints());
        for secret in ["hunter2", "s3cret", "r3dis"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("db:5432/x"));
    }
}
