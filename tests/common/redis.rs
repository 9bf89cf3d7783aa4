//! A private `redis-server` per test: a free loopback port, its own directory (AOF on), killed on drop. Never the
//! shared 6379 and never a Redis the test did not start.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestRedis {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// `--replicaof 127.0.0.1 <port>` for a replica.
    primary: Option<u16>,
}

impl TestRedis {
    /// Starts a server and waits until it answers PING. Panics with a clear message when `redis-server` is missing.
    pub fn start() -> TestRedis {
        let dir = tempfile::tempdir().expect("temp dir for redis");
        let port = free_port();
        let mut redis = TestRedis { port, child: None, dir, primary: None };
        redis.spawn();
        redis
    }

    /// Starts a replica of `primary` and waits until it answers (replication itself catches up asynchronously).
    pub fn start_replica_of(primary: &TestRedis) -> TestRedis {
        let dir = tempfile::tempdir().expect("temp dir for redis");
        let mut redis = TestRedis { port: free_port(), child: None, dir, primary: Some(primary.port) };
        redis.spawn();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(self.primary.iter().flat_map(|p| ["--replicaof".to_string(), "127.0.0.1".into(), p.to_string()]))
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        assert!(self.wait_until(true, Duration::from_secs(10)), "redis-server on port {} did not start", self.port);
    }

    /// Kills the server with SIGKILL (no shutdown save; only the AOF survives) and waits until the port is dead.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(self.wait_until(false, Duration::from_secs(10)), "redis still answers after kill -9");
    }

    /// Freezes the server (SIGSTOP): connections stay open and the kernel still accepts bytes, but nothing is
    /// answered until [`TestRedis::resume`] — then Redis runs everything that reached it meanwhile.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("redis-server is running").id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().expect("kill(1) runs");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Starts the server again on the same port and directory (it replays its AOF).
    pub fn restart(&mut self) {
        self.spawn();
    }

    /// Waits until PING does (or does not) answer.
    fn wait_until(&self, up: bool, deadline: Duration) -> bool {
        let until = Instant::now() + deadline;
        while Instant::now() < until {
            if self.ping() == up {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else { return false };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(200)) else { return false };
        redis::cmd("PING").query::<String>(&mut conn).map(|p| p == "PONG").unwrap_or(false)
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port that was free a moment ago (bind to 0, read it, release it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}
