//! What a concurrent group's release is (its mode and the offset between members), which one a
//! round uses, and what the release did: shared by the HTTP/1.1 gate (`group.rs`) and the
//! HTTP/2 single packet (`h2race.rs`), so neither reaches into the other.

use std::time::{Duration, Instant};

use super::connect;
use crate::record::{Exchange, Outgoing, RaceWindow};
use crate::scenario::SyncMode;

/// What one run of a concurrent group did.
#[derive(Debug)]
pub struct GroupRun {
    pub exchanges: Vec<Exchange>,
    pub window: RaceWindow,
    /// The group could not be released as asked (nothing was sent).
    pub error: Option<String>,
}

/// How a group is released in one round: the mode, and the offset between members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    pub sync: SyncMode,
    /// Member `k` (of those without `after:`) goes `k × stagger` after the first.
    pub stagger: Duration,
}

impl Release {
    pub const fn together(sync: SyncMode) -> Release {
        Release {
            sync,
            stagger: Duration::ZERO,
        }
    }
}

/// The releases a group rotates through round by round when its scenario pins neither
/// `sync` nor `stagger`: what one misses another may hit (docs/benchmarks.md has the rates
/// measured per release; each is the best on some server). Where every request has content:
/// its last byte held (the server has parsed the request and waits in its handler), then the
/// whole request held (the server parses all of them at once); without content, only the
/// latter. Then HTTP/2's single packet where the target speaks it and the group is on one
/// origin. Members offset by a few tens of microseconds (`stagger`) caught less on every
/// server measured, so no round of the rotation is staggered.
pub fn rotation(requests: &[Outgoing], http2: bool) -> Vec<Release> {
    let mut releases = if requests.iter().all(|r| !r.body.is_empty()) {
        vec![
            Release::together(SyncMode::LastByte),
            Release::together(SyncMode::Barrier),
        ]
    } else {
        vec![Release::together(SyncMode::Barrier)]
    };
    let one_origin = requests.windows(2).all(|pair| {
        pair[0].url.scheme() == pair[1].url.scheme()
            && connect::authority(&pair[0].url) == connect::authority(&pair[1].url)
    });
    if http2 && one_origin {
        releases.push(Release::together(SyncMode::Http2));
    }
    releases
}

/// A group that cannot be released as asked: a setup error, not a verdict on the target.
pub(super) fn failed_group(sync: SyncMode, why: &str) -> GroupRun {
    GroupRun {
        exchanges: Vec::new(),
        window: RaceWindow {
            delayed: 0,
            sync: sync.name(),
            released: 0,
            spread: Duration::ZERO,
            stagger: Duration::ZERO,
            warm: 0,
        },
        error: Some(why.to_owned()),
    }
}

impl GroupRun {
    /// A group that was released: its window follows from the instants each member's final
    /// bytes went out (first to last).
    pub(super) fn released(
        exchanges: Vec<Exchange>,
        release: Release,
        times: &[Instant],
    ) -> GroupRun {
        let spread = match (times.iter().min(), times.iter().max()) {
            (Some(first), Some(last)) => last.duration_since(*first),
            _ => Duration::ZERO,
        };
        GroupRun {
            exchanges,
            window: RaceWindow {
                delayed: 0,
                sync: release.sync.name(),
                released: times.len(),
                spread,
                stagger: release.stagger,
                warm: 0,
            },
            error: None,
        }
    }
}
