//! Decision delivery to host sites: `WatchDecisions` (a server stream) and `ListDecisions` (its polling twin).
//!
//! Every verdict is in the site's decision stream (written atomically with the verdict), so delivery is a read of
//! that stream from the caller's cursor: at least once, in order, resumable. A cursor older than retention is
//! `OUT_OF_RANGE`, never a silent gap.
//!
//! Fan-out: one reader task per site per process blocks on the store (its own connection, never the request one) and
//! broadcasts new events through a bounded channel to that site's watchers. A watcher that falls behind the
//! broadcast buffer is not allowed to grow memory: it drops back to reading the stream from its own last cursor
//! (catch-up), then rejoins. A watcher whose client disconnects ends at once (its send fails or `closed()` fires).

use crate::error::Error;
use crate::pb;
use crate::store::{After, DecisionEvent, ReadError, Store, StreamId};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Events buffered per site for live watchers; a slower watcher catches up from the store instead.
const BROADCAST_CAPACITY: usize = 1024;
/// Messages buffered per watcher between its task and its gRPC stream.
const WATCHER_BUFFER: usize = 64;
/// Events per store read while catching up.
const CATCH_UP_BATCH: usize = 500;
/// How long the site reader blocks on the store per round.
const READER_BLOCK: Duration = Duration::from_secs(5);

/// Largest `ListDecisions` page (and the default).
pub const MAX_LIST_PAGE: usize = 1000;
const DEFAULT_LIST_PAGE: usize = 100;

/// The per-process fan-out of decision events.
#[derive(Debug)]
pub struct DecisionHub {
    store: Arc<dyn Store>,
    heartbeat: Duration,
    sites: Mutex<HashMap<String, broadcast::Sender<DecisionEvent>>>,
}

impl DecisionHub {
    pub fn new(store: Arc<dyn Store>, heartbeat: Duration) -> Arc<DecisionHub> {
        Arc::new(DecisionHub { store, heartbeat, sites: Mutex::new(HashMap::new()) })
    }

    /// A receiver of the site's live events, starting the site's reader when it is the first.
    ///
    /// Invariant (no gap): a watcher subscribes BEFORE it reads the store from `from`. A reader started here begins
    /// at `from`; one already running is at or before the stream's tail. Either way every event after the watcher's
    /// catch-up read is still to be broadcast, and every earlier one is in that read.
    fn subscribe(self: &Arc<Self>, site: &str, from: After) -> broadcast::Receiver<DecisionEvent> {
        let mut sites = self.sites.lock();
        if let Some(tx) = sites.get(site) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(BROADCAST_CAPACITY);
        sites.insert(site.to_string(), tx.clone());
        tokio::spawn(self.clone().read_site(site.to_string(), tx, from));
        rx
    }

    /// The site's reader: blocks on the store for new events and broadcasts them, until no watcher is left.
    async fn read_site(self: Arc<Self>, site: String, tx: broadcast::Sender<DecisionEvent>, mut after: After) {
        loop {
            {
                // Checked under the map's lock, so a concurrent subscribe either sees this reader or starts anew.
                let mut sites = self.sites.lock();
                if tx.receiver_count() == 0 {
                    sites.remove(&site);
                    return;
                }
            }
            match self.store.wait_decisions(&site, after, CATCH_UP_BATCH, READER_BLOCK).await {
                Ok(events) => {
                    for e in events {
                        if let Some(id) = StreamId::parse(&e.cursor) {
                            after = After::Id(id);
                        }
                        let _ = tx.send(e);
                    }
                }
                // Trimmed past our position (a long outage): continue from the newest; watchers catch up themselves.
                Err(ReadError::Expired) => {
                    after = self.store.latest_decision(&site).await.ok().flatten().map_or(After::Start, After::Id);
                }
                Err(ReadError::Store(e)) => {
                    tracing::warn!(site = %site, error = %e, "decision reader: store unavailable, retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// Parses a client cursor: `""` → from now on (`None`), `"0"` → from the oldest retained, else a position.
fn parse_cursor(field: &str, cursor: &str) -> Result<Option<After>, Error> {
    match cursor {
        "" => Ok(None),
        "0" => Ok(Some(After::Start)),
        c => StreamId::parse(c)
            .map(|id| Some(After::Id(id)))
            .ok_or_else(|| Error::invalid(field, "is not a cursor returned by this service")),
    }
}

fn read_error(e: ReadError) -> Error {
    match e {
        ReadError::Expired => Error::OutOfRange(
            "the cursor is older than the retained decisions; re-sync with GetComment and resume from \"\"".into(),
        ),
        ReadError::Store(e) => Error::Unavailable(format!("store unavailable: {e}")),
    }
}

pub fn event(e: DecisionEvent) -> pb::DecisionEvent {
    pb::DecisionEvent {
        cursor: e.cursor,
        comment_id: e.comment_id,
        verdict: super::convert::verdict(e.verdict) as i32,
        source: super::convert::source(e.source) as i32,
        moderator_id: e.moderator_id,
        reason_codes: e.reason_codes,
        decided_at: Some(super::convert::timestamp(e.decided_at_ms)),
        redacted_body: e.redacted_body,
        publish_original: e.publish_original,
        thread_id: e.thread_id,
    }
}

/// `ListDecisions` for one site.
pub async fn list(
    store: &dyn Store,
    site: &str,
    req: pb::ListDecisionsRequest,
) -> Result<pb::ListDecisionsResponse, Error> {
    if req.page_size < 0 {
        return Err(Error::invalid("page_size", "must not be negative"));
    }
    let after = parse_cursor("after_cursor", &req.after_cursor)?.unwrap_or(After::Start);
    let size = if req.page_size == 0 { DEFAULT_LIST_PAGE } else { (req.page_size as usize).min(MAX_LIST_PAGE) };
    let events = store.read_decisions(site, after, size).await.map_err(read_error)?;
    let next_cursor = events.last().map(|e| e.cursor.clone()).unwrap_or(req.after_cursor);
    Ok(pb::ListDecisionsResponse { events: events.into_iter().map(event).collect(), next_cursor })
}

pub type WatchStream = tokio_stream::wrappers::ReceiverStream<Result<pb::WatchDecisionsResponse, tonic::Status>>;

/// `WatchDecisions` for one site. Checks the cursor before the stream starts, so an expired one is the RPC's status.
pub async fn watch(hub: &Arc<DecisionHub>, site: &str, req: pb::WatchDecisionsRequest) -> Result<WatchStream, Error> {
    let start = match parse_cursor("after_cursor", &req.after_cursor)? {
        Some(after) => after,
        None => hub.store.latest_decision(site).await?.map_or(After::Start, After::Id),
    };
    let live = hub.subscribe(site, start);
    // The first read doubles as the cursor check.
    let first = hub.store.read_decisions(site, start, CATCH_UP_BATCH).await.map_err(read_error)?;
    let (tx, rx) = mpsc::channel(WATCHER_BUFFER);
    tokio::spawn(Watcher { hub: hub.clone(), site: site.to_string(), after: start, tx }.run(first, live));
    Ok(tokio_stream::wrappers::ReceiverStream::new(rx))
}

struct Watcher {
    hub: Arc<DecisionHub>,
    site: String,
    /// Position of the last event sent: everything up to it was delivered.
    after: After,
    tx: mpsc::Sender<Result<pb::WatchDecisionsResponse, tonic::Status>>,
}

impl Watcher {
    async fn run(mut self, first: Vec<DecisionEvent>, mut live: broadcast::Receiver<DecisionEvent>) {
        if self.send_all(first).await.is_err() || self.catch_up().await.is_err() {
            return;
        }
        let mut idle = tokio::time::interval_at(tokio::time::Instant::now() + self.hub.heartbeat, self.hub.heartbeat);
        loop {
            tokio::select! {
                received = live.recv() => {
                    let sent = match received {
                        Ok(e) => self.send_all(vec![e]).await,
                        // Fell behind the buffer: the stream in the store has everything, read it from our cursor.
                        Err(broadcast::error::RecvError::Lagged(_)) => self.catch_up().await,
                        Err(broadcast::error::RecvError::Closed) => {
                            live = self.hub.subscribe(&self.site, self.after);
                            self.catch_up().await
                        }
                    };
                    if sent.is_err() {
                        return;
                    }
                    idle.reset();
                }
                _ = idle.tick() => {
                    let beat = pb::WatchDecisionsResponse {
                        kind: Some(pb::watch_decisions_response::Kind::Heartbeat(pb::Heartbeat {
                            at: Some(super::convert::timestamp(crate::clock::Clock::now_ms(&crate::clock::SystemClock))),
                        })),
                    };
                    if self.tx.send(Ok(beat)).await.is_err() {
                        return;
                    }
                }
                _ = self.tx.closed() => return,
            }
        }
    }

    /// Sends events past our cursor (duplicates from the live feed and the catch-up overlap are skipped).
    async fn send_all(&mut self, events: Vec<DecisionEvent>) -> Result<(), ()> {
        for e in events {
            let Some(id) = StreamId::parse(&e.cursor) else { continue };
            if let After::Id(last) = self.after
                && id <= last
            {
                continue;
            }
            let msg = pb::WatchDecisionsResponse { kind: Some(pb::watch_decisions_response::Kind::Event(event(e))) };
            self.tx.send(Ok(msg)).await.map_err(|_| ())?;
            self.after = After::Id(id);
        }
        Ok(())
    }

    /// Reads the store from our cursor until it has nothing newer. An expired cursor ends the stream with
    /// OUT_OF_RANGE (the client re-syncs); an unavailable store ends it with UNAVAILABLE (the client resumes).
    async fn catch_up(&mut self) -> Result<(), ()> {
        loop {
            match self.hub.store.read_decisions(&self.site, self.after, CATCH_UP_BATCH).await {
                Ok(events) if events.is_empty() => return Ok(()),
                Ok(events) => self.send_all(events).await?,
                Err(e) => {
                    let _ = self.tx.send(Err(tonic::Status::from(read_error(e)))).await;
                    return Err(());
                }
            }
        }
    }
}
