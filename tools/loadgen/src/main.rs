//! `conoceles-loadgen`: HTTP load for `make bench`, in the manner of wrk2 and oha's latency
//! correction.
//!
//! Open loop (`--rate R`): requests are due at fixed intervals whatever the server does; each
//! one's latency counts from when it was due, so a stalled server shows as latency instead of as
//! a lower request rate (no coordinated omission). A due request takes an idle keep-alive
//! connection or opens a new one, up to `--max-connections`, as a crowd of browsers would.
//! Closed loop (`--closed`): `--connections` clients send back to back — the highest rate.
//!
//! Prints one JSON object: requests, ok, shed (429/503), errors, achieved rate, latency
//! percentiles in milliseconds, and when the requests slower than 50 ms were due (seconds into
//! the run: first, last, how many), which tells a stall at the start from one in the middle.
//!
//! `conoceles-loadgen [--rate R | --closed] [--duration S] [--connections N]
//!  [--max-connections M] [--header 'Name: value'] [--post-json BODY] (URL... | --urls-file FILE)`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::{Mutex, Semaphore};

struct Options {
    rate: Option<f64>,
    duration: Duration,
    connections: usize,
    max_connections: usize,
    headers: Vec<(String, String)>,
    /// `POST` with this JSON body instead of `GET`.
    body: Option<Bytes>,
    urls: Vec<http::Uri>,
}

/// HTTP load at a fixed rate (open loop) or as fast as the server answers (closed loop); prints
/// one JSON object of counts and latency percentiles.
#[derive(Debug, clap::Parser)]
#[command(name = "conoceles-loadgen", version)]
// A later `--duration` (or any option) replaces an earlier one: make bench's `load` gives
// defaults that a step overrides.
#[command(args_override_self = true)]
#[command(group = clap::ArgGroup::new("mode").required(true).args(["rate", "closed"]))]
#[command(group = clap::ArgGroup::new("targets").required(true).args(["urls", "urls_file"]))]
struct Cli {
    /// Requests per second, due at fixed intervals whatever the server does (open loop).
    #[arg(long)]
    rate: Option<f64>,
    /// `--connections` clients sending back to back (closed loop): the highest rate.
    #[arg(long)]
    closed: bool,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Clients of the closed loop.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Most connections open at once in the open loop.
    #[arg(long, default_value_t = 2048)]
    max_connections: usize,
    /// A header sent with every request, `Name: value`; repeatable.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = header)]
    headers: Vec<(String, String)>,
    /// `POST` this JSON body instead of `GET`.
    #[arg(long)]
    post_json: Option<String>,
    /// A file of URLs, one per line, requested in turn.
    #[arg(long)]
    urls_file: Option<std::path::PathBuf>,
    /// URLs requested in turn.
    urls: Vec<http::Uri>,
}

fn header(value: &str) -> Result<(String, String), String> {
    value
        .split_once(':')
        .map(|(name, v)| (name.trim().to_string(), v.trim().to_string()))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("expected 'Name: value', got {value:?}"))
}

fn parse() -> anyhow::Result<Options> {
    let cli = <Cli as clap::Parser>::parse();
    let mut urls = cli.urls;
    if let Some(file) = cli.urls_file {
        let listed = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for line in listed.lines().map(str::trim).filter(|l| !l.is_empty()) {
            urls.push(
                line.parse()
                    .with_context(|| format!("{line:?} is not a URL"))?,
            );
        }
    }
    if urls.is_empty() {
        bail!("no URL given");
    }
    Ok(Options {
        rate: cli.rate,
        duration: Duration::from_secs_f64(cli.duration),
        connections: cli.connections,
        max_connections: cli.max_connections,
        headers: cli.headers,
        body: cli.post_json.map(Bytes::from),
        urls,
    })
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(uri: &http::Uri) -> anyhow::Result<Sender> {
    let host = uri.host().context("URL without host")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

enum Outcome {
    Ok,
    Shed,
    Error,
}

/// One request on `sender`; the connection is usable again only when this returns it.
async fn send(sender: &mut Sender, uri: &http::Uri, o: &Shared) -> anyhow::Result<Outcome> {
    sender.ready().await?;
    let mut request = http::Request::builder()
        .method(if o.body.is_some() { "POST" } else { "GET" })
        .uri(uri.clone())
        .header(
            http::header::HOST,
            uri.authority().map_or("", |a| a.as_str()),
        );
    if o.body.is_some() {
        request = request.header(http::header::CONTENT_TYPE, "application/json");
    }
    for (name, value) in &o.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let body = Full::new(o.body.clone().unwrap_or_default());
    let response = sender.send_request(request.body(body)?).await?;
    let status = response.status();
    response.into_body().collect().await?;
    Ok(
        if status.is_success() || status.is_redirection() || status == 304 {
            Outcome::Ok
        } else if status == 429 || status == 503 {
            Outcome::Shed
        } else {
            Outcome::Error
        },
    )
}

/// A request slower than this is "slow" in the report's timeline.
const SLOW: Duration = Duration::from_millis(50);

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    /// When each slow request was due, in milliseconds since the run began.
    slow_due_ms: Vec<u64>,
    ok: u64,
    shed: u64,
    errors: u64,
}

impl Tally {
    fn record(&mut self, begin: Instant, started: Instant, outcome: anyhow::Result<Outcome>) {
        let latency = started.elapsed();
        self.latencies_us.push(latency.as_micros() as u64);
        if latency > SLOW {
            self.slow_due_ms
                .push(started.duration_since(begin).as_millis() as u64);
        }
        match outcome {
            Ok(Outcome::Ok) => self.ok += 1,
            Ok(Outcome::Shed) => self.shed += 1,
            _ => self.errors += 1,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.slow_due_ms.extend(other.slow_due_ms);
        self.ok += other.ok;
        self.shed += other.shed;
        self.errors += other.errors;
    }
}

/// What every request carries.
struct Shared {
    headers: Vec<(String, String)>,
    body: Option<Bytes>,
}

/// Idle keep-alive connections, and a bound on how many exist.
struct Pool {
    idle: Mutex<Vec<Sender>>,
    slots: Semaphore,
    opened: AtomicUsize,
}

async fn open_loop(o: &Options, rate: f64) -> Tally {
    let pool = Arc::new(Pool {
        idle: Mutex::new(Vec::new()),
        slots: Semaphore::new(o.max_connections),
        opened: AtomicUsize::new(0),
    });
    let shared = Arc::new(Shared {
        headers: o.headers.clone(),
        body: o.body.clone(),
    });
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (o.duration.as_secs_f64() * rate).round() as usize;
    let begin = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = begin + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let (pool, shared) = (pool.clone(), shared.clone());
        let uri = o.urls[i % o.urls.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let Ok(_slot) = pool.slots.acquire().await else {
                return tally;
            };
            let idle = pool.idle.lock().await.pop();
            let sender = match idle {
                Some(s) if !s.is_closed() => Ok(s),
                _ => {
                    pool.opened.fetch_add(1, Ordering::Relaxed);
                    connect(&uri).await
                }
            };
            match sender {
                Ok(mut sender) => {
                    let outcome = send(&mut sender, &uri, &shared).await;
                    let reusable = outcome.is_ok();
                    tally.record(begin, due, outcome);
                    if reusable {
                        pool.idle.lock().await.push(sender);
                    }
                }
                Err(e) => tally.record(begin, due, Err(e)),
            }
            tally
        }));
    }
    collect(tasks).await
}

/// The tallies of every client task, merged.
async fn collect(tasks: Vec<tokio::task::JoinHandle<Tally>>) -> Tally {
    let mut tally = Tally::default();
    for task in tasks {
        if let Ok(t) = task.await {
            tally.merge(t);
        }
    }
    tally
}

async fn closed_loop(o: &Options) -> Tally {
    let begin = Instant::now();
    let stop = begin + o.duration;
    let mut tasks = Vec::new();
    let connections = o.connections;
    for c in 0..connections {
        let urls = o.urls.clone();
        let shared = Shared {
            headers: o.headers.clone(),
            body: o.body.clone(),
        };
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut i = c;
            let mut sender: Option<Sender> = None;
            while Instant::now() < stop {
                let uri = &urls[i % urls.len()];
                // Strided, so that the connections together walk the list once per round
                // instead of each asking every URL right after the others.
                i += connections;
                let started = Instant::now();
                if sender.as_ref().is_none_or(|s| s.is_closed()) {
                    match connect(uri).await {
                        Ok(s) => sender = Some(s),
                        Err(e) => {
                            tally.record(begin, started, Err(e));
                            continue;
                        }
                    }
                }
                let Some(s) = sender.as_mut() else { continue };
                let outcome = send(s, uri, &shared).await;
                if outcome.is_err() {
                    sender = None;
                }
                tally.record(begin, started, outcome);
            }
            tally
        }));
    }
    collect(tasks).await
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = parse()?;
    let started = Instant::now();
    let mut tally = match o.rate {
        Some(rate) => open_loop(&o, rate).await,
        None => closed_loop(&o).await,
    };
    let elapsed = started.elapsed().as_secs_f64();
    tally.latencies_us.sort_unstable();
    tally.slow_due_ms.sort_unstable();
    let l = &tally.latencies_us;
    let seconds = |ms: Option<&u64>| ms.map(|ms| *ms as f64 / 1000.0);
    let report = serde_json::json!({
        "mode": if o.rate.is_some() { "open" } else { "closed" },
        "target_rate": o.rate,
        "requests": l.len(),
        "ok": tally.ok,
        "shed": tally.shed,
        "errors": tally.errors,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "achieved_rate": (tally.ok as f64 / elapsed).round(),
        "p50_ms": percentile(l, 50.0),
        "p99_ms": percentile(l, 99.0),
        "p999_ms": percentile(l, 99.9),
        "max_ms": l.last().map_or(0.0, |m| *m as f64 / 1000.0),
        "slow": {
            "over_ms": SLOW.as_millis(),
            "count": tally.slow_due_ms.len(),
            "first_due_s": seconds(tally.slow_due_ms.first()),
            "last_due_s": seconds(tally.slow_due_ms.last()),
        },
    });
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{report}")?;
    Ok(())
}
