//! A `commentguard serve` child process for tests of the real binary.

use super::wait_for;
use commentguard::pb::moderation_service_client::ModerationServiceClient;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_commentguard");

/// A `commentguard serve` child process, killed on drop. Its stdout and stderr lines are forwarded to a channel.
pub struct Serve {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    /// The config file's directory, when the harness wrote it.
    _dir: Option<tempfile::TempDir>,
}

impl Serve {
    pub fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .env("RUST_LOG", "info,commentguard=debug")
            .env_remove("COMMENTGUARD_SERVER__LISTEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn commentguard");
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Serve { child, lines, seen: Vec::new(), _dir: None }
    }

    /// Starts the binary with `config` written to a file of its own (removed when the child is dropped).
    pub fn with_config(config: &str) -> Serve {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("commentguard.toml");
        std::fs::write(&path, config).expect("write config");
        let path = path.to_str().expect("a UTF-8 temp path");
        let mut serve = Serve::start(&["--config", path]);
        serve._dir = Some(dir);
        serve
    }

    /// Waits (up to 20 s) for a line containing `needle` and returns it.
    pub fn wait_line(&mut self, needle: &str) -> String {
        match self.seen.iter().find(|l| l.contains(needle)) {
            Some(l) => l.clone(),
            None => self.wait_next(needle),
        }
    }

    /// Waits (up to 20 s) for a line containing `needle` among those not yet read, e.g. the outcome of the next
    /// SIGHUP when an earlier one logged the same words.
    pub fn wait_next(&mut self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no new line with {needle:?}; saw:\n{}", self.seen.join("\n"));
    }

    /// The gRPC address from the "commentguard serving" log line.
    pub fn addr(&mut self) -> String {
        self.addr_in("commentguard serving")
    }

    /// The `/metrics` address from the "metrics serving" log line.
    pub fn metrics_addr(&mut self) -> String {
        self.addr_in("metrics serving")
    }

    /// Every line logged so far, without waiting.
    pub fn logs(&mut self) -> String {
        self.seen.extend(self.lines.try_iter());
        self.seen.join("\n")
    }

    fn addr_in(&mut self, needle: &str) -> String {
        let line = self.wait_line(needle);
        // Human logs say `addr=1.2.3.4:5`, JSON logs `"addr":"1.2.3.4:5"`.
        let start = line.find("addr=").map(|i| i + 5).or_else(|| line.find("\"addr\":\"").map(|i| i + 8));
        let rest = &line[start.expect("addr field")..];
        rest.split(|c: char| c.is_whitespace() || c == '"').next().expect("address").to_string()
    }

    pub fn signal(&self, sig: &str) {
        let status =
            Command::new("kill").arg(format!("-{sig}")).arg(self.child.id().to_string()).status().expect("kill");
        assert!(status.success());
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn client(addr: &str) -> ModerationServiceClient<tonic::transport::Channel> {
    let url = format!("http://{addr}");
    wait_for(Duration::from_secs(10), || async { ModerationServiceClient::connect(url.clone()).await.ok() })
        .await
        .expect("connects")
}
