//! commentguard: a comment moderation service. Modules in the order a submission meets them:
//!
//! - [`commands`] — the command line: `serve`, `check`, `train`, `model`.
//! - [`app`] — the composition root: a process's shared parts built from the config, its background tasks.
//! - [`config`] — TOML + environment configuration and its validation.
//! - [`server`], [`connections`], [`reload`] — the gRPC server: services, health, reflection, metrics, connection
//!   limits, SIGHUP reload, shutdown.
//! - [`api`] — authentication before decoding, gRPC handlers, request validation, domain ⇄ wire conversion.
//! - [`http_api`] — the HTTP/JSON door for hosts without gRPC: routes, canonical proto JSON, status mapping.
//! - [`console`] — the moderator console: browser assets and the review RPCs as JSON, on their own listener.
//! - [`auth`] — bearer key/token → site or moderator.
//! - [`tenants`] — sites and moderators compiled from config, swapped whole on reload.
//! - [`intake`] — the submit flow shared by `serve` and `check`.
//! - [`ratelimit`] — bans, rate limits (local governor, cluster-wide Redis GCRA), flood and surge control.
//! - [`analysis`] — the pure analysis core: normalisation, detectors → findings.
//! - [`abuse_hook`] — a site's own abuse classifier over HTTP, asked before policy when configured.
//! - [`policy`] — findings + context + site policy → a decision: verdict, reasons, redacted body.
//! - [`store`] — the storage roles and their two implementations.
//! - [`learning`] — each site's spam and abuse models learning from its moderators.
//! - [`webhooks`] — signed, at-least-once, in-order delivery of each site's decision events to its host.
//! - [`domain`], [`findings`], [`pseudonym`], [`offsets`], [`clock`], [`error`], [`telemetry`] — shared
//!   vocabulary and plumbing.

pub mod abuse_hook;
pub mod analysis;
pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod commands;
pub mod config;
pub mod connections;
pub mod console;
pub mod domain;
pub mod error;
pub mod findings;
pub mod http_api;
pub mod intake;
pub mod learning;
pub mod offsets;
pub mod policy;
pub mod pseudonym;
pub mod ratelimit;
pub mod reload;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tenants;
pub mod webhooks;

/// Code generated from `proto/commentguard/v1/commentguard.proto`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("commentguard.v1");

    /// Encoded descriptors of the contract, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("commentguard_descriptor");
}
