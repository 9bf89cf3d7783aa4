//! Every Lua script of the Redis store, declared once. Each file in `store/lua/` documents its own KEYS, ARGV and
//! reply; the callers live next to what they serve (`mod.rs`: submit and decision reads, `batch.rs`: the submit
//! group commit, `review.rs`: the review workflow, `learning.rs`: the learned model, `webhooks.rs`: webhook delivery state).
//!
//! Invariant: every script is invoked with `EVALSHA`, loading the body only after a `NOSCRIPT` (e.g. after a Redis
//! restart; `redis::Script` does this, and `batch.rs`, which builds its call in one buffer, does the same), and every
//! key a script touches is passed in `KEYS` or derived from the
//! site prefix, so it stays in the site's Cluster slot.
//!
//! (The rate limiter's `ratelimit/gcra.lua` is not a store script: it runs against `ratelimit.redis_url`.)

use std::sync::LazyLock;

/// `NAME => "file.lua";`, or `NAME => "file.lua" after "lib.lua";` for a script that uses the helpers of
/// `lua/lib/lib.lua` (put before the script's own text: one script body, one SHA, as Redis needs).
macro_rules! scripts {
    ($($(#[$doc:meta])* $name:ident => $file:literal $(after $lib:literal)?;)*) => {
        $(
            $(#[$doc])*
            pub(super) static $name: LazyLock<redis::Script> = LazyLock::new(|| {
                redis::Script::new(concat!(
                    $(include_str!(concat!("../lua/lib/", $lib)),)?
                    include_str!(concat!("../lua/", $file))
                ))
            });
        )*

        /// Every script with its file name (tests check each one compiles in Redis).
        #[cfg(test)]
        pub(super) fn all() -> Vec<(&'static str, &'static redis::Script)> {
            vec![$(($file, &*$name)),*]
        }
    };
}

scripts! {
    /// A batch of one site's submissions, each checked, written and answered on its own (`batch.rs`).
    SUBMIT => "submit.lua";
    /// Decision events after a cursor, refusing a trimmed-away cursor.
    READ_DECISIONS => "read_decisions.lua";
    /// Review: hand undecided items to a moderator with fresh leases.
    CLAIM => "claim.lua";
    /// Review: what moderators see for a list of items, in one round trip.
    LOAD_ITEMS => "load_items.lua";
    /// Review: apply one moderator decision.
    DECIDE => "decide.lua" after "record.lua";
    /// Review: give a claimed item back.
    RELEASE => "release.lua";
    /// Review: one page of a queue.
    LIST_QUEUE => "list_queue.lua";
    /// Review: queue counters.
    STATS => "stats.lua";
    /// Review: a reader's report.
    REPORT => "report.lua" after "record.lua";
    /// Learning: claim a site's feedback for one learner.
    CLAIM_FEEDBACK => "claim_feedback.lua";
    /// Learning: install a delta and acknowledge its feedback.
    COMMIT_MODEL => "commit_model.lua";
    /// Learning: reinstall a snapshot as a new version.
    REVERT_MODEL => "revert_model.lua";
    /// Webhooks: take or renew a site's delivery lease.
    WEBHOOK_LEASE => "webhook_lease.lua";
    /// Webhooks: save the delivered cursor while still holding the lease.
    WEBHOOK_CURSOR => "webhook_cursor.lua";
    /// Webhooks: give the lease back.
    WEBHOOK_RELEASE => "webhook_release.lua";
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_script_file_is_declared_here_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/lua");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("src/store/lua is readable")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".lua"))
            .collect();
        files.sort();
        let mut declared: Vec<String> = super::all().into_iter().map(|(file, _)| file.to_string()).collect();
        declared.sort();
        assert_eq!(declared, files, "each store script is declared once in scripts.rs, and only those");
    }
}
