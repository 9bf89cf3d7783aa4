//! Compiles `proto/` with protox (pure Rust) so that no system `protoc` is needed, and writes the descriptor sets that
//! server reflection and the HTTP/JSON door's JSON mapping read.

use prost::Message;
use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/commentguard/v1/commentguard.proto";
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=third_party");
    let fds = protox::compile([proto], ["proto"])?;
    // `compile_fds` ignores `file_descriptor_set_path`, so the set for reflection is written here by hand.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out.join("commentguard_descriptor.bin"), fds.encode_to_vec())?;
    // google.rpc.Status and its details: descriptors only, for printing error statuses as JSON (src/http_api).
    let rpc = protox::compile(["google/rpc/status.proto", "google/rpc/error_details.proto"], ["third_party"])?;
    std::fs::write(out.join("google_rpc_descriptor.bin"), rpc.encode_to_vec())?;
    tonic_prost_build::configure().build_server(true).build_client(true).compile_fds(fds)?;
    Ok(())
}
