//! `commentguard.v1.ReviewService`: called by moderators with their token. The review workflow is the next
//! milestone; until then every RPC answers UNIMPLEMENTED (the contract is in `proto/`).

use crate::error::Error;
use crate::pb::{self, review_service_server::ReviewService};
use crate::telemetry::observe;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone, Default)]
pub struct Review;

macro_rules! unimplemented_rpcs {
    ($( $method:ident($req:ty) -> $resp:ty = $name:literal; )*) => {
        #[tonic::async_trait]
        impl ReviewService for Review {
            $(
                async fn $method(&self, _request: Request<$req>) -> Result<Response<$resp>, Status> {
                    observe($name, async { Err(Error::Unimplemented(concat!($name, " is not implemented yet"))) }).await
                }
            )*
        }
    };
}

unimplemented_rpcs! {
    claim_next(pb::ClaimNextRequest) -> pb::ClaimNextResponse = "ClaimNext";
    decide(pb::DecideRequest) -> pb::DecideResponse = "Decide";
    release_claim(pb::ReleaseClaimRequest) -> pb::ReleaseClaimResponse = "ReleaseClaim";
    list_queue(pb::ListQueueRequest) -> pb::ListQueueResponse = "ListQueue";
    get_queue_stats(pb::GetQueueStatsRequest) -> pb::GetQueueStatsResponse = "GetQueueStats";
}
