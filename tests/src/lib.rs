//! Helpers for the end-to-end tests: start the real service binaries as child processes, each
//! on free ports with its own database, and stop them with SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod stack;
pub use stack::ProcessStack;

/// The six services, by binary name suffix.
pub const SERVICES: [&str; 6] = [
    "auth",
    "identity",
    "capture",
    "validation",
    "publication",
    "statistics",
];

/// The directory holding the workspace's binaries (`target/debug` next to this test binary).
pub fn binaries_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/<test> → target/debug
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

/// Where the browser journeys save their screenshots for review: `.run/screenshots/` in the
/// workspace (created if missing).
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.run/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A service binary running as a child process.
pub struct ServiceProcess {
    pub name: &'static str,
    pub ops: SocketAddr,
    pub grpc: SocketAddr,
    pub http: Option<SocketAddr>,
    child: Child,
    log: mpsc::Receiver<String>,
}

impl ServiceProcess {
    /// Starts `conoceles-<name>` with `env` and waits for its "service started" log line.
    pub fn start(name: &'static str, env: &[(&str, String)]) -> Self {
        let binary = binaries_dir().join(format!("conoceles-{name}"));
        assert!(
            binary.exists(),
            "{} is missing: build the services first (`cargo build --bins`, which `make test` does)",
            binary.display()
        );
        let mut command = Command::new(&binary);
        command
            .env("RUST_LOG", "info")
            .env("HTTP_PORT", "0")
            .env("OPS_PORT", "0")
            .env("GRPC_PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn service");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let line = match log.recv_timeout(remaining) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{name} did not start within 60 s");
                }
            };
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let fields = &event["fields"];
            if fields["message"] == "service started" {
                let addr = |key: &str| fields[key].as_str().and_then(|a| a.parse().ok());
                return Self {
                    name,
                    ops: addr("ops").expect("ops address in the start line"),
                    grpc: addr("grpc").expect("gRPC address in the start line"),
                    http: addr("http"),
                    child,
                    log,
                };
            }
            if fields["message"] == "service failed" {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name} failed to start: {line}");
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident memory so far (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the process's status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    /// Sends a signal (`"STOP"`, `"CONT"`, `"KILL"`…) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {}", self.name);
    }

    /// Kills the process at once (SIGKILL: no shutdown, nothing flushed) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit.
    pub fn terminate(&mut self, limit: Duration) -> Option<ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The rest of the log after the process exited: every line up to the end of its output
    /// (JSON lines).
    pub fn drain_log(&self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(5)) {
            lines.push(line);
        }
        lines
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a command printed: its standard output, then its standard error.
pub fn printed(output: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A small valid JPEG (a colour gradient), for uploads in journeys.
pub fn sample_jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 140])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encoding a JPEG in memory");
    out.into_inner()
}
