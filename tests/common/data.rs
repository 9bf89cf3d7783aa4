//! The shared labelled data sets (`../shared/data`, beside the repository, never copied into it).
//!
//! A developer without them gets a clear SKIPPED line; CI must run the evaluations, so there (`.ci/run` sets
//! `COMMENTGUARD_REQUIRE_DATA=1`) a missing set fails the test instead of passing silently.

use std::path::PathBuf;

/// `../shared/data/<sub>`, or `None` (after saying why) when it is absent outside CI.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")).join(sub);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("COMMENTGUARD_REQUIRE_DATA").is_none(),
        "{} is absent, and COMMENTGUARD_REQUIRE_DATA says the evaluations must run",
        path.display()
    );
    println!("SKIPPED: {} is absent (the shared data sets live next to the repository)", path.display());
    None
}
