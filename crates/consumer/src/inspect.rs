//! `dlq list` and `dlq show`: the dead-letter topic read without kcat. Both read with
//! assigned partitions and commit nothing (no group is joined, nobody's progress moves),
//! from the low watermark to the high watermark each partition had when the command
//! started. A record that is not a dead-letter record is listed as unreadable, never a
//! failure; every string from a record is made safe for a terminal before it is printed
//! (records can be written by anyone who may write to the topic).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{BorrowedMessage, Message as _};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use tributary_events::dlq::{DeadLetter, Reason};
use tributary_runtime::kafka::{self, OffsetMode};

use crate::error::ConsumerError;

/// The group id the readers carry (librdkafka wants one); never joined or committed.
const READER_GROUP: &str = "tributary-dlq-inspect";

#[derive(Debug, Clone)]
pub struct ListConfig {
    pub connection: kafka::Connection,
    pub dlq_topic: String,
    /// Only these reasons (empty: all).
    pub reasons: Vec<Reason>,
    /// Only this project.
    pub project: Option<String>,
    /// Records shown at most: the newest that match.
    pub limit: usize,
    /// How long reading may take before what was read is listed.
    pub timeout: Duration,
}

/// Where a record is: what `dlq show` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Coordinates {
    pub partition: i32,
    pub offset: i64,
}

impl std::fmt::Display for Coordinates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.partition, self.offset)
    }
}

impl std::str::FromStr for Coordinates {
    type Err = String;

    /// `PARTITION:OFFSET`, both non-negative: `3:1042`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not PARTITION:OFFSET (e.g. 3:1042, as `dlq list` shows)");
        let (p, o) = s.split_once(':').ok_or_else(bad)?;
        let partition: i32 = p.trim().parse().map_err(|_| bad())?;
        let offset: i64 = o.trim().parse().map_err(|_| bad())?;
        if partition < 0 || offset < 0 {
            return Err(bad());
        }
        Ok(Self { partition, offset })
    }
}

/// One listed record.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub at: Coordinates,
    /// The record, without its payload (`dlq show` prints it whole); `None` when it is
    /// not a dead-letter record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Summary>,
    /// Why it could not be read as one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// What a listing shows of a record.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub reason: Reason,
    pub stage: tributary_events::dlq::Stage,
    #[serde(with = "time::serde::rfc3339")]
    pub failed_at: time::OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<uuid::Uuid>,
    pub attempts: u32,
    pub message: String,
}

/// What `dlq list` read.
#[derive(Debug, Default, Serialize)]
pub struct Listing {
    /// The newest matching records, oldest first (at most the limit).
    pub entries: Vec<Entry>,
    /// Records read.
    pub read: u64,
    /// Records that matched the filters (shown or not).
    pub matched: u64,
    /// Matching records by reason.
    pub by_reason: BTreeMap<String, u64>,
    pub unreadable: u64,
    /// Whether every partition was read to the end it had at the start.
    pub complete: bool,
}

impl Listing {
    fn add(&mut self, at: Coordinates, payload: Option<&[u8]>, cfg: &ListConfig) {
        self.read += 1;
        let record = match payload.map(serde_json::from_slice::<DeadLetter>) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                return self.unreadable(at, format!("not a dead-letter record: {e}"), cfg);
            }
            None => return self.unreadable(at, "empty record".into(), cfg),
        };
        if (!cfg.reasons.is_empty() && !cfg.reasons.contains(&record.reason))
            || cfg
                .project
                .as_ref()
                .is_some_and(|p| record.project.as_ref() != Some(p))
        {
            return;
        }
        *self
            .by_reason
            .entry(record.reason.as_str().to_owned())
            .or_default() += 1;
        self.push(
            Entry {
                at,
                record: Some(Summary {
                    reason: record.reason,
                    stage: record.stage,
                    failed_at: record.failed_at,
                    project: record.project,
                    path: record.path,
                    run_id: record.run_id,
                    attempts: record.attempts,
                    message: record.message,
                }),
                unreadable: None,
            },
            cfg.limit,
        );
    }

    fn unreadable(&mut self, at: Coordinates, why: String, cfg: &ListConfig) {
        self.unreadable += 1;
        // filters name reasons and projects, which an unreadable record has not
        if cfg.reasons.is_empty() && cfg.project.is_none() {
            self.push(
                Entry {
                    at,
                    record: None,
                    unreadable: Some(why),
                },
                cfg.limit,
            );
        }
    }

    fn push(&mut self, entry: Entry, limit: usize) {
        self.matched += 1;
        let mut entries: VecDeque<Entry> = std::mem::take(&mut self.entries).into();
        entries.push_back(entry);
        while entries.len() > limit {
            entries.pop_front();
        }
        self.entries = entries.into();
    }

    /// The listing as a table for people, then the counts.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<12} {:<20} {:<22} {:<24} {:<32} MESSAGE",
            "AT", "FAILED AT", "REASON", "PROJECT", "PATH"
        );
        for e in &self.entries {
            match (&e.record, &e.unreadable) {
                (Some(r), _) => {
                    let at = r
                        .failed_at
                        .replace_nanosecond(0)
                        .ok()
                        .and_then(|t| {
                            t.format(&time::format_description::well_known::Rfc3339)
                                .ok()
                        })
                        .unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "{:<12} {:<20} {:<22} {:<24} {:<32} {}",
                        e.at.to_string(),
                        at,
                        r.reason.as_str(),
                        printable(r.project.as_deref().unwrap_or("-"), 24),
                        printable(r.path.as_deref().unwrap_or("-"), 32),
                        printable(&r.message, 160),
                    );
                }
                (None, why) => {
                    let _ = writeln!(
                        s,
                        "{:<12} {:<20} {:<22} {:<24} {:<32} {}",
                        e.at.to_string(),
                        "-",
                        "(unreadable)",
                        "-",
                        "-",
                        printable(why.as_deref().unwrap_or(""), 160)
                    );
                }
            }
        }
        let by: Vec<String> = self
            .by_reason
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        let _ = write!(
            s,
            "{} of {} matching records shown ({} read{}){}{}",
            self.entries.len(),
            self.matched,
            self.read,
            if self.unreadable > 0 {
                format!(", {} unreadable", self.unreadable)
            } else {
                String::new()
            },
            if self.complete {
                ""
            } else {
                "; stopped at the time limit before the end"
            },
            if by.is_empty() {
                String::new()
            } else {
                format!("; by reason: {}", by.join(", "))
            }
        );
        s
    }
}

/// Text from a record made safe for a terminal, on one line: control characters
/// (escape sequences, newlines) shown escaped, and at most `max` characters.
pub fn printable(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max.saturating_add(8)));
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn reader(conn: &kafka::Connection) -> Result<BaseConsumer<kafka::Context>, ConsumerError> {
    kafka::group_consumer(conn, READER_GROUP, OffsetMode::ManualCommit)
        .create_with_context(kafka::Context::new(conn))
        .map_err(ConsumerError::Kafka)
}

async fn probe(conn: &kafka::Connection, topic: &str) -> Result<(), ConsumerError> {
    kafka::probe(conn, &[topic], Duration::from_secs(10))
        .await
        .map_err(|source| ConsumerError::KafkaUnreachable {
            brokers: conn.brokers.clone(),
            source,
        })
}

/// Where a [`scan`] starts in each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// The low watermark: everything the topic still holds.
    Beginning,
    /// The first record at or after this time (ms since the epoch).
    TimeMs(i64),
}

/// Reads every partition of `topic` from `start` to the high watermark it had when the
/// scan began, handing each message to `f`, until `f` breaks or `timeout` passes. True
/// when every partition was read to its end. Blocking: call on a blocking thread.
pub(crate) fn scan(
    consumer: &BaseConsumer<kafka::Context>,
    topic: &str,
    start: Start,
    timeout: Duration,
    mut f: impl FnMut(&BorrowedMessage<'_>) -> ControlFlow<()>,
) -> Result<bool, rdkafka::error::KafkaError> {
    let deadline = Instant::now() + timeout;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut tpl = TopicPartitionList::new();
    let mut ends = std::collections::HashMap::new();
    for p in md.topics().iter().flat_map(|t| t.partitions()) {
        let (low, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
        if high > low {
            let from = match start {
                Start::Beginning => low,
                Start::TimeMs(ms) => ms,
            };
            tpl.add_partition_offset(topic, p.id(), Offset::Offset(from))?;
            ends.insert(p.id(), high);
        }
    }
    if let Start::TimeMs(_) = start
        && !ends.is_empty()
    {
        tpl = consumer.offsets_for_times(tpl, Duration::from_secs(10))?;
        // partitions with nothing at or after the time are done already
        for e in tpl.elements() {
            if matches!(e.offset(), Offset::End) {
                ends.remove(&e.partition());
            }
        }
    }
    if ends.is_empty() {
        return Ok(true);
    }
    consumer.assign(&tpl)?;
    let mut done = std::collections::HashSet::new();
    while done.len() < ends.len() && Instant::now() < deadline {
        let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let Some(end) = ends.get(&m.partition()).copied() else {
            continue;
        };
        if m.offset() >= end {
            continue; // written after the scan began
        }
        if m.offset() + 1 >= end {
            done.insert(m.partition());
        }
        if f(&m).is_break() {
            return Ok(false);
        }
    }
    Ok(done.len() == ends.len())
}

/// `dlq list`: the newest matching records and the counts.
pub async fn list(cfg: &ListConfig) -> Result<Listing, ConsumerError> {
    probe(&cfg.connection, &cfg.dlq_topic).await?;
    let consumer = reader(&cfg.connection)?;
    let cfg = cfg.clone();
    tokio::task::spawn_blocking(move || {
        let mut listing = Listing::default();
        listing.complete = scan(
            &consumer,
            &cfg.dlq_topic,
            Start::Beginning,
            cfg.timeout,
            |m| {
                let at = Coordinates {
                    partition: m.partition(),
                    offset: m.offset(),
                };
                listing.add(at, m.payload(), &cfg);
                ControlFlow::Continue(())
            },
        )
        .map_err(ConsumerError::Kafka)?;
        Ok(listing)
    })
    .await
    // a panic on the blocking thread goes on unwinding here
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// `dlq show`: the record at `at`, as it is on the topic; `None` when the partition has
/// no record there (never written, or gone with retention).
pub async fn show(
    conn: &kafka::Connection,
    topic: &str,
    at: Coordinates,
) -> Result<Option<Vec<u8>>, ConsumerError> {
    probe(conn, topic).await?;
    let consumer = reader(conn)?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let md = consumer
            .fetch_metadata(Some(&topic), Duration::from_secs(10))
            .map_err(ConsumerError::Kafka)?;
        let exists = md
            .topics()
            .iter()
            .flat_map(|t| t.partitions())
            .any(|p| p.id() == at.partition);
        if !exists {
            return Ok(None);
        }
        let (low, high) = consumer
            .fetch_watermarks(&topic, at.partition, Duration::from_secs(10))
            .map_err(ConsumerError::Kafka)?;
        if at.offset < low || at.offset >= high {
            return Ok(None);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, at.partition, Offset::Offset(at.offset))
            .map_err(ConsumerError::Kafka)?;
        consumer.assign(&tpl).map_err(ConsumerError::Kafka)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) if m.offset() == at.offset => {
                    return Ok(Some(m.payload().map(<[u8]>::to_vec).unwrap_or_default()));
                }
                // compacted or deleted under us
                Some(Ok(m)) if m.offset() > at.offset => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    })
    .await
    // a panic on the blocking thread goes on unwinding here
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

#[cfg(test)]
mod tests;
