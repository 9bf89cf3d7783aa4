//! A gRPC client in another language, generated from `proto/`, talks to the service (DESIGN: the contract is the
//! proto, not this crate). Needs Python with `grpcio-tools`, `grpcio-health-checking` and `grpcio-status`;
//! `.ci/run` installs them. Without them the test says so and passes vacuously — CI always has them.

mod common;

use common::{TestServer, key, two_sites};
use std::process::Command;

fn python_has_grpc() -> bool {
    Command::new("python3")
        .args(["-c", "import grpc_tools, grpc_health, grpc_status"])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_generated_from_the_proto_submits_and_reads() {
    if !python_has_grpc() {
        eprintln!("SKIPPED: python3 with grpcio-tools, grpcio-health-checking and grpcio-status is not installed");
        return;
    }
    let server = TestServer::start(two_sites("")).await;
    server.channel().await;
    let root = env!("CARGO_MANIFEST_DIR");
    let addr = server.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(format!("{root}/tests/clients/python_client.py"))
            .arg(addr)
            .arg(key("a"))
            .arg(format!("{root}/proto"))
            .output()
    })
    .await
    .expect("join")
    .expect("run python");
    assert!(out.status.success(), "python client failed: {}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json from the client");
    assert_eq!(seen["verdict"], "VERDICT_APPROVED");
    assert_eq!(seen["get_verdict"], "VERDICT_APPROVED");
    assert_eq!(seen["get_thread"], "article-9");
    assert!(seen["cursor"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(seen["invalid_code"], "INVALID_ARGUMENT");
    assert_eq!(seen["invalid_fields"], serde_json::json!(["body", "author.ip"]));
    assert_eq!(seen["health"], "SERVING");
}
