//! Decision delivery to host sites: `WatchDecisions` (a server stream) and `ListDecisions` (its polling twin).
//!
//! Every verdict is in the site's decision stream (written atomically with the verdict), so delivery is a read of
//! that stream from the caller's cursor: at least once, in order, resumable. A cursor older than retention is
//! `OUT_OF_RANGE`, never a silent gap; a malformed or invented one is `INVALID_ARGUMENT` (`validate::cursor`).
//!
//! Fan-out: one reader task per site per process blocks on the store (its own connection, never the request one) and
//! broadcasts new events through a bounded channel to that site's watchers. The reader follows the site's own stream
//! from its newest event; it never starts at a client's cursor, so no watcher can change what others receive. A
//! watcher reads its own history (catch-up) from the store, and one that falls behind the broadcast buffer is not
//! allowed to grow memory: it drops back to reading from its own last cursor, then rejoins. A watcher whose client
//! disconnects ends at once (its send fails or `closed()` fires).
//!
//! Bounds (one site must never take the others offline): open watch streams per site (`max_watchers_per_site`,
//! beyond it RESOURCE_EXHAUSTED), and every history read — catch-up pages and `ListDecisions` — holds a slot of its
//! site's and of the process's read semaphores while it runs (`watch_catchup_concurrency[_per_site]`), never while it
//! sends. A flood of catch-ups queues on its own site's slots instead of on the store connection other sites write
//! through.

use super::validate::{Cursor, Violations};
use crate::clock::Clock;
use crate::domain::DecisionEvent;
use crate::error::Error;
use crate::pb;
use crate::store::{After, DecisionLog, ReadError, StreamId};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc};

/// Events buffered per site for live watchers; a slower watcher catches up from the store instead.
const BROADCAST_CAPACITY: usize = 1024;
/// Messages buffered per watcher between its task and its gRPC stream.
const WATCHER_BUFFER: usize = 64;
/// Events per store read while catching up (one read holds a slot; smaller pages let other sites in sooner).
const CATCH_UP_PAGE: usize = 200;
/// Events per read of the site reader.
const READER_PAGE: usize = 500;
/// How long the site reader blocks on the store per round.
const READER_BLOCK: Duration = Duration::from_secs(5);
/// What a refused watcher is told to wait before trying again.
const WATCHER_RETRY: Duration = Duration::from_secs(5);

/// Largest `ListDecisions` page (and the default).
pub const MAX_LIST_PAGE: usize = 1000;
const DEFAULT_LIST_PAGE: usize = 100;

/// Decision delivery settings (`[server]`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// An idle stream gets a heartbeat this often.
    pub heartbeat: Duration,
    pub max_watchers_per_site: usize,
    /// History reads at once, all sites.
    pub reads: usize,
    /// History reads at once, per site.
    pub reads_per_site: usize,
}

impl Settings {
    pub fn from_config(server: &crate::config::ServerConfig) -> Settings {
        Settings {
            heartbeat: Duration::from_millis(server.heartbeat_ms),
            max_watchers_per_site: server.max_watchers_per_site,
            reads: server.watch_catchup_concurrency,
            reads_per_site: server.watch_catchup_concurrency_per_site,
        }
    }
}

/// One site's share of the bounds.
#[derive(Debug)]
struct SiteSlots {
    /// One permit per open watch stream, held by the watcher's task.
    watchers: Arc<Semaphore>,
    /// One permit per history read in flight.
    reads: Semaphore,
}

/// The per-process fan-out of decision events.
#[derive(Debug)]
pub struct DecisionHub {
    store: Arc<dyn DecisionLog>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    readers: Mutex<HashMap<String, broadcast::Sender<DecisionEvent>>>,
    /// Never shrinks: keyed by authenticated site ids, so bounded by the configured sites.
    slots: Mutex<HashMap<String, Arc<SiteSlots>>>,
    reads: Semaphore,
}

impl DecisionHub {
    pub fn new(store: Arc<dyn DecisionLog>, clock: Arc<dyn Clock>, settings: Settings) -> Arc<DecisionHub> {
        Arc::new(DecisionHub {
            store,
            clock,
            settings,
            readers: Mutex::new(HashMap::new()),
            slots: Mutex::new(HashMap::new()),
            reads: Semaphore::new(settings.reads),
        })
    }

    fn slots(&self, site: &str) -> Arc<SiteSlots> {
        let mut slots = self.slots.lock();
        let s = &self.settings;
        slots
            .entry(site.to_string())
            .or_insert_with(|| {
                Arc::new(SiteSlots {
                    watchers: Arc::new(Semaphore::new(s.max_watchers_per_site)),
                    reads: Semaphore::new(s.reads_per_site),
                })
            })
            .clone()
    }

    /// A slot for one more open watch stream, or RESOURCE_EXHAUSTED.
    fn watcher_slot(&self, site: &str) -> Result<OwnedSemaphorePermit, Error> {
        self.slots(site).watchers.clone().try_acquire_owned().map_err(|_| Error::ResourceExhausted {
            limit: "watchers",
            description: format!(
                "at most {} open WatchDecisions streams per site",
                self.settings.max_watchers_per_site
            ),
            retry_after: WATCHER_RETRY,
        })
    }

    /// A history read: waits for a slot of the site's and of the process's read semaphores (site first, so a
    /// flooding site queues on its own share), and holds both only while the store reads.
    async fn read(&self, site: &str, after: After, limit: usize) -> Result<Vec<DecisionEvent>, Error> {
        let slots = self.slots(site);
        let closed = |_| Error::Unavailable("decision reads are shutting down".into());
        let _site = slots.reads.acquire().await.map_err(closed)?;
        let _all = self.reads.acquire().await.map_err(closed)?;
        self.store.read_decisions(site, after, limit).await.map_err(|e| read_error(site, e))
    }

    /// The newest position of the site's stream (`Start` when it is empty).
    async fn latest(&self, site: &str) -> Result<After, Error> {
        match self.store.latest_decision(site).await {
            Ok(id) => Ok(id.map_or(After::Start, After::Id)),
            Err(e) => Err(read_error(site, ReadError::from(e))),
        }
    }

    /// A receiver of the site's live events, starting the site's reader when it is the first.
    ///
    /// Invariant (no gap): a watcher subscribes BEFORE it reads its history. A reader started here begins after the
    /// site's newest event as read before this returns; one already running has broadcast everything up to its
    /// position, all of which is already in the store. Either way every event the watcher's history read does not
    /// return is still to be broadcast to it. The reader's position comes from the site's stream, never from a
    /// client's cursor.
    async fn subscribe(self: &Arc<Self>, site: &str) -> Result<broadcast::Receiver<DecisionEvent>, Error> {
        if let Some(tx) = self.readers.lock().get(site) {
            return Ok(tx.subscribe());
        }
        let start = self.latest(site).await?;
        let mut readers = self.readers.lock();
        if let Some(tx) = readers.get(site) {
            return Ok(tx.subscribe());
        }
        let (tx, rx) = broadcast::channel(BROADCAST_CAPACITY);
        readers.insert(site.to_string(), tx.clone());
        tokio::spawn(self.clone().read_site(site.to_string(), tx, start));
        Ok(rx)
    }

    /// The site's reader: blocks on the store for new events and broadcasts them, until no watcher is left.
    async fn read_site(self: Arc<Self>, site: String, tx: broadcast::Sender<DecisionEvent>, mut after: After) {
        loop {
            {
                // Checked under the map's lock, so a concurrent subscribe either sees this reader or starts anew.
                let mut readers = self.readers.lock();
                if tx.receiver_count() == 0 {
                    readers.remove(&site);
                    return;
                }
            }
            match self.store.wait_decisions(&site, after, READER_PAGE, READER_BLOCK).await {
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

/// The client's view of a failed read: OUT_OF_RANGE for an expired cursor, else a generic UNAVAILABLE (the store's
/// own text is logged, never sent).
fn read_error(site: &str, e: ReadError) -> Error {
    match e {
        ReadError::Expired => Error::OutOfRange(
            "the cursor is older than the retained decisions; re-sync with GetComment and resume from \"\"".into(),
        ),
        ReadError::Store(e) => {
            tracing::warn!(site = %site, error = %e, "decision read failed");
            Error::Unavailable("the decision store is unavailable; retry from the same cursor".into())
        }
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

/// `ListDecisions` for one site (`""` and `"0"` both start at the oldest retained event).
pub async fn list(
    hub: &DecisionHub,
    site: &str,
    req: pb::ListDecisionsRequest,
) -> Result<pb::ListDecisionsResponse, Error> {
    let mut v = Violations::default();
    if req.page_size < 0 {
        v.add("page_size", "must not be negative");
    }
    let cursor = v.cursor("after_cursor", &req.after_cursor, hub.clock.now_ms());
    v.finish()?;
    let after = match cursor {
        Cursor::Latest => After::Start,
        Cursor::From(after) => after,
    };
    let size = if req.page_size == 0 { DEFAULT_LIST_PAGE } else { (req.page_size as usize).min(MAX_LIST_PAGE) };
    let events = hub.read(site, after, size).await?;
    let next_cursor = events.last().map(|e| e.cursor.clone()).unwrap_or(req.after_cursor);
    Ok(pb::ListDecisionsResponse { events: events.into_iter().map(event).collect(), next_cursor })
}

pub type WatchStream = tokio_stream::wrappers::ReceiverStream<Result<pb::WatchDecisionsResponse, tonic::Status>>;

/// `WatchDecisions` for one site. Checks the cursor and reads the first page before the stream starts, so a bad or
/// expired cursor, or one stream too many, is the RPC's status.
pub async fn watch(hub: &Arc<DecisionHub>, site: &str, req: pb::WatchDecisionsRequest) -> Result<WatchStream, Error> {
    let mut v = Violations::default();
    let cursor = v.cursor("after_cursor", &req.after_cursor, hub.clock.now_ms());
    v.finish()?;
    let slot = hub.watcher_slot(site)?;
    let start = match cursor {
        Cursor::Latest => hub.latest(site).await?,
        Cursor::From(after) => after,
    };
    let live = hub.subscribe(site).await?;
    let first = hub.read(site, start, CATCH_UP_PAGE).await?;
    let (tx, rx) = mpsc::channel(WATCHER_BUFFER);
    let watcher = Watcher { hub: hub.clone(), site: site.to_string(), after: start, tx, _slot: slot };
    tokio::spawn(watcher.run(first, live));
    Ok(tokio_stream::wrappers::ReceiverStream::new(rx))
}

struct Watcher {
    hub: Arc<DecisionHub>,
    site: String,
    /// Position of the last event sent: everything up to it was delivered.
    after: After,
    tx: mpsc::Sender<Result<pb::WatchDecisionsResponse, tonic::Status>>,
    /// This stream's place under `max_watchers_per_site`, given back when the task ends.
    _slot: OwnedSemaphorePermit,
}

impl Watcher {
    async fn run(mut self, first: Vec<DecisionEvent>, mut live: broadcast::Receiver<DecisionEvent>) {
        let full = first.len() >= CATCH_UP_PAGE;
        if self.send_all(first).await.is_err() || (full && self.catch_up().await.is_err()) {
            return;
        }
        let heartbeat = self.hub.settings.heartbeat;
        let mut idle = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        loop {
            tokio::select! {
                received = live.recv() => {
                    let sent = match received {
                        Ok(e) => self.send_all(vec![e]).await,
                        // Fell behind the buffer: the stream in the store has everything, read it from our cursor.
                        Err(broadcast::error::RecvError::Lagged(_)) => self.catch_up().await,
                        Err(broadcast::error::RecvError::Closed) => match self.hub.subscribe(&self.site).await {
                            Ok(rx) => {
                                live = rx;
                                self.catch_up().await
                            }
                            Err(e) => {
                                let _ = self.tx.send(Err(e.into())).await;
                                Err(())
                            }
                        },
                    };
                    if sent.is_err() {
                        return;
                    }
                    idle.reset();
                }
                _ = idle.tick() => {
                    let beat = pb::WatchDecisionsResponse {
                        kind: Some(pb::watch_decisions_response::Kind::Heartbeat(pb::Heartbeat {
                            at: Some(super::convert::timestamp(self.hub.clock.now_ms())),
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

    /// Reads the store from our cursor, a page at a time, until a page is not full: everything after that read is
    /// still to be broadcast (see [`DecisionHub::subscribe`]). An expired cursor ends the stream with OUT_OF_RANGE
    /// (the client re-syncs); an unavailable store ends it with UNAVAILABLE (the client resumes). A client that
    /// leaves while the read waits for a slot gives its place up at once.
    async fn catch_up(&mut self) -> Result<(), ()> {
        loop {
            let page = tokio::select! {
                page = self.hub.read(&self.site, self.after, CATCH_UP_PAGE) => page,
                _ = self.tx.closed() => return Err(()),
            };
            match page {
                Ok(events) => {
                    let full = events.len() >= CATCH_UP_PAGE;
                    self.send_all(events).await?;
                    if !full {
                        return Ok(());
                    }
                }
                Err(e) => {
                    let _ = self.tx.send(Err(e.into())).await;
                    return Err(());
                }
            }
        }
    }
}
