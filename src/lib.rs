//! commentguard: a comment moderation service. Modules in the order a submission meets them:
//!
//! - [`cli`] — the command line: `serve`, `check`, `train`.
//! - [`config`] — TOML + environment configuration and its validation.
//! - [`server`] — the gRPC server: services, health, reflection, metrics, reload, shutdown.
//! - [`api`] — gRPC handlers, request validation, domain ⇄ wire conversion.
//! - [`auth`] — bearer key/token → site or moderator.
//! - [`tenants`] — sites and moderators compiled from config, swapped on reload.
//! - [`intake`] — the submit flow shared by `serve` and `check`.
//! - [`ratelimit`] — bans, rate limits (local governor, cluster-wide Redis GCRA), flood and surge control.
//! - [`analysis`] — the pure analysis core: normalisation, detectors → findings.
//! - [`policy`] — findings + context + site policy → verdict and redacted body.
//! - [`store`] — the storage trait and its implementations.
//! - [`check`] — offline analysis of JSON Lines.
//! - [`train`] — `commentguard train`: the spam model from labelled comments.
//! - [`domain`], [`findings`], [`offsets`], [`clock`], [`error`], [`telemetry`] — shared vocabulary and plumbing.

pub mod analysis;
pub mod api;
pub mod auth;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod findings;
pub mod intake;
pub mod learning;
pub mod model_admin;
pub mod offsets;
pub mod policy;
pub mod ratelimit;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tenants;
pub mod train;

/// Code generated from `proto/commentguard/v1/commentguard.proto`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("commentguard.v1");

    /// Encoded descriptors of the contract, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("commentguard_descriptor");
}
