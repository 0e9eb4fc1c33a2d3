//! TLS to PostgreSQL and Redis by configuration alone: `sslmode=` in `DATABASE_URL`, `rediss://`
//! in `REDIS_URL`, the server's certificate verified against the system's roots (a private CA
//! through `SSL_CERT_FILE`, as managed databases and clusters with their own CA need).

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use conoceles_kit::cache::Cache;
use conoceles_kit::testing::{self, TestDatabase};
use secrecy::SecretString;
use sqlx::migrate::Migrator;

static NO_MIGRATIONS: Migrator = Migrator::DEFAULT;

#[tokio::test]
async fn a_database_url_asking_for_tls_gets_an_encrypted_connection() {
    let db = TestDatabase::named("tls");
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let url = SecretString::from(format!("{}{separator}sslmode=require", db.url));
    let pool = conoceles_kit::db::connect_and_migrate(&url, 1, &NO_MIGRATIONS)
        .await
        .expect("PostgreSQL over TLS (the local server has ssl = on: deploy/local-infra.sh)");
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(encrypted, "the session is encrypted");
    pool.close().await;
    db.drop_database().await;
}

/// A Redis that speaks only TLS, with a certificate of a CA made for the test.
struct TlsRedis {
    server: Child,
    port: u16,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(status.success(), "openssl {args:?}");
}

fn tls_redis(dir: &Path) -> TlsRedis {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Conoceles test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--tls-cert-file",
            "server.pem",
            "--tls-key-file",
            "server.key",
        ])
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server is installed");
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    TlsRedis { server, port }
}

#[test]
fn a_rediss_url_gets_a_verified_tls_connection_and_a_plain_one_is_refused() {
    let dir = std::env::temp_dir().join(testing::unique("redis-tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let redis = tls_redis(&dir);
    // The client's trust comes from the process's environment: run it in a child of its own.
    let client = |url: String, ca: &Path| {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "redis_client_in_a_child",
                "--ignored",
                "--nocapture",
            ])
            .env("SSL_CERT_FILE", ca)
            .env("TLS_TEST_REDIS_URL", url)
            .output()
            .unwrap()
    };
    let ok = client(
        format!("rediss://127.0.0.1:{}/", redis.port),
        &dir.join("ca.pem"),
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    // The same server without the CA trusted: the certificate is refused.
    let untrusted = client(
        format!("rediss://127.0.0.1:{}/", redis.port),
        &dir.join("server.csr"),
    );
    assert!(!untrusted.status.success());
    // Plain text to the TLS port: refused too.
    let plain = client(
        format!("redis://127.0.0.1:{}/", redis.port),
        &dir.join("ca.pem"),
    );
    assert!(!plain.status.success());
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Run only by the test above, in a child process whose `SSL_CERT_FILE` names the test's CA.
#[tokio::test]
#[ignore = "a child of a_rediss_url_gets_a_verified_tls_connection_and_a_plain_one_is_refused"]
async fn redis_client_in_a_child() {
    let url = std::env::var("TLS_TEST_REDIS_URL").expect("run by the TLS test");
    let cache = Cache::connect(&SecretString::from(url), "tls-test:").unwrap();
    tokio::time::timeout(Duration::from_secs(5), cache.ping())
        .await
        .expect("answers within 5 s")
        .expect("PING over TLS");
}
