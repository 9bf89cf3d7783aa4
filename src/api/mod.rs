//! gRPC services: an authentication layer in front (`authn`), then thin handlers that validate and hand over to the
//! transport-independent flow (`intake`) or the store. One file per service; conversions and validation beside them.

pub mod authn;
pub mod convert;
pub mod decisions;
pub mod masking;
pub mod moderation;
pub mod review;
pub mod validate;
