//! The alert lifecycle as a pure state machine.
//!
//! Two functions decide everything; the store only applies their answers:
//!
//! - [`apply`] takes an alert's state and a triage [`Action`] (status,
//!   severity, learn, mute, unlearn, unmute, comment, auto-close) and returns
//!   the new state with its side effects, or a [`LifecycleError`] that says
//!   why the action is not allowed.
//! - [`on_detection`] takes the latest alert with the same fingerprint and a
//!   new sighting and decides: update it, open a new alert, or suppress.
//!
//! The rules (reference §1.4 and §3.1):
//!
//! | state | same traffic again | effect |
//! |---|---|---|
//! | New / Active | yes | the same alert: last detection and count updated |
//! | New / Active, quiet longer than the auto-close period | yes | auto-closed, then a new alert |
//! | Closed | yes | a new alert |
//! | Closed + Learned | yes | nothing (baseline) |
//! | Closed + Muted | yes | nothing (suppressed) |
//!
//! No-ops (setting the status an alert already has, learning a learned alert,
//! closing a learned alert) succeed with `changed == false`, so bulk actions
//! and retried API calls are idempotent; nothing is recorded for them.

use crate::{Disposition, Severity, Status, Timestamp};

/// The part of an alert the lifecycle reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifecycleState {
    /// Triage status.
    pub status: Status,
    /// Learned / muted / none.
    pub disposition: Disposition,
    /// Current severity.
    pub severity: Severity,
    /// Whether the alert type may be learned.
    pub learnable: bool,
    /// Whether the alert type may be muted.
    pub mutable: bool,
}

/// A triage action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Change the status.
    SetStatus(Status),
    /// Change the severity.
    SetSeverity(Severity),
    /// Close and add the traffic to the baseline.
    Learn,
    /// Close and suppress the traffic without learning.
    Mute,
    /// Remove the traffic from the baseline; the alert stays closed.
    Unlearn,
    /// Lift the suppression; the alert stays closed.
    Unmute,
    /// Add a comment.
    Comment(String),
    /// Close because the traffic has been quiet for the auto-close period.
    AutoClose,
}

impl Action {
    /// A short verb for audit records ("set_status", "learn"…).
    pub fn verb(&self) -> &'static str {
        match self {
            Action::SetStatus(_) => "set_status",
            Action::SetSeverity(_) => "set_severity",
            Action::Learn => "learn",
            Action::Mute => "mute",
            Action::Unlearn => "unlearn",
            Action::Unmute => "unmute",
            Action::Comment(_) => "comment",
            Action::AutoClose => "auto_close",
        }
    }
}

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 4000;

/// A side effect the store must carry out with the state change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Add the alert's traffic to the baseline.
    AddToBaseline,
    /// Remove the alert's traffic from the baseline.
    RemoveFromBaseline,
    /// Store the comment.
    AddComment(String),
    /// Write a timeline event of this type.
    Timeline(&'static str),
}

/// The result of an allowed action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The state after the action.
    pub after: LifecycleState,
    /// False for a no-op; nothing is recorded then.
    pub changed: bool,
    /// Effects to carry out, in order.
    pub effects: Vec<Effect>,
    /// What changed, for the audit record ("status New → Closed").
    pub summary: String,
}

/// Why an action is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The alert type cannot be learned.
    #[error(
        "this alert type cannot be learned (learning is for policy and anomaly alerts); close or mute it instead"
    )]
    NotLearnable,
    /// The alert type cannot be muted.
    #[error("this alert type cannot be muted; close it, or learn it if it is normal traffic")]
    NotMutable,
    /// Unlearn on an alert that is not learned.
    #[error("the alert is not learned, so there is nothing to unlearn")]
    NotLearned,
    /// Unmute on an alert that is not muted.
    #[error("the alert is not muted, so there is nothing to unmute")]
    NotMuted,
    /// Learn on a muted alert.
    #[error("the alert is muted; unmute it before learning it")]
    MutedCannotLearn,
    /// Mute on a learned alert.
    #[error("the alert is learned; unlearn it before muting it")]
    LearnedCannotMute,
    /// Reopening a learned or muted alert.
    #[error("the alert is {0}; {verb} it before reopening it", verb = if *.0 == Disposition::Learned { "unlearn" } else { "unmute" })]
    SuppressedCannotReopen(Disposition),
    /// An empty comment.
    #[error("a comment needs some text")]
    EmptyComment,
    /// A comment over [`MAX_COMMENT_CHARS`].
    #[error("a comment may have at most {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
}

/// Applies a triage action to an alert's state.
pub fn apply(state: &LifecycleState, action: &Action) -> Result<Transition, LifecycleError> {
    let s = *state;
    let unchanged =
        || Transition { after: s, changed: false, effects: vec![], summary: String::new() };
    match action {
        Action::SetStatus(to) => {
            if *to == s.status {
                return Ok(unchanged());
            }
            if s.disposition != Disposition::None {
                if *to == Status::Closed {
                    return Ok(unchanged());
                }
                return Err(LifecycleError::SuppressedCannotReopen(s.disposition));
            }
            let mut effects = vec![];
            if *to == Status::Closed {
                effects.push(Effect::Timeline("ALERT_CLOSED"));
            }
            Ok(Transition {
                after: LifecycleState { status: *to, ..s },
                changed: true,
                effects,
                summary: format!("status {} → {}", s.status, to),
            })
        }
        Action::SetSeverity(to) => {
            if *to == s.severity {
                return Ok(unchanged());
            }
            Ok(Transition {
                after: LifecycleState { severity: *to, ..s },
                changed: true,
                effects: vec![],
                summary: format!("severity {} → {}", s.severity, to),
            })
        }
        Action::Learn => {
            if !s.learnable {
                return Err(LifecycleError::NotLearnable);
            }
            match s.disposition {
                Disposition::Learned => Ok(unchanged()),
                Disposition::Muted => Err(LifecycleError::MutedCannotLearn),
                Disposition::None => Ok(Transition {
                    after: LifecycleState {
                        status: Status::Closed,
                        disposition: Disposition::Learned,
                        ..s
                    },
                    changed: true,
                    effects: vec![Effect::AddToBaseline, Effect::Timeline("ALERT_LEARNED")],
                    summary: format!("learned (status {} → Closed)", s.status),
                }),
            }
        }
        Action::Mute => {
            if !s.mutable {
                return Err(LifecycleError::NotMutable);
            }
            match s.disposition {
                Disposition::Muted => Ok(unchanged()),
                Disposition::Learned => Err(LifecycleError::LearnedCannotMute),
                // Muting adds no timeline item (reference §1.4).
                Disposition::None => Ok(Transition {
                    after: LifecycleState {
                        status: Status::Closed,
                        disposition: Disposition::Muted,
                        ..s
                    },
                    changed: true,
                    effects: vec![],
                    summary: format!("muted (status {} → Closed)", s.status),
                }),
            }
        }
        Action::Unlearn => {
            if s.disposition != Disposition::Learned {
                return Err(LifecycleError::NotLearned);
            }
            Ok(Transition {
                after: LifecycleState { disposition: Disposition::None, ..s },
                changed: true,
                effects: vec![Effect::RemoveFromBaseline, Effect::Timeline("ALERT_UNLEARNED")],
                summary: "unlearned".into(),
            })
        }
        Action::Unmute => {
            if s.disposition != Disposition::Muted {
                return Err(LifecycleError::NotMuted);
            }
            Ok(Transition {
                after: LifecycleState { disposition: Disposition::None, ..s },
                changed: true,
                effects: vec![],
                summary: "unmuted".into(),
            })
        }
        Action::Comment(text) => {
            let t = text.trim();
            if t.is_empty() {
                return Err(LifecycleError::EmptyComment);
            }
            if t.chars().count() > MAX_COMMENT_CHARS {
                return Err(LifecycleError::CommentTooLong);
            }
            Ok(Transition {
                after: s,
                changed: true,
                effects: vec![Effect::AddComment(t.to_string())],
                summary: "comment added".into(),
            })
        }
        Action::AutoClose => {
            if !s.status.is_open() {
                return Ok(unchanged());
            }
            Ok(Transition {
                after: LifecycleState { status: Status::Closed, ..s },
                changed: true,
                effects: vec![Effect::Timeline("ALERT_CLOSED")],
                summary: format!(
                    "auto-closed after the quiet period (status {} → Closed)",
                    s.status
                ),
            })
        }
    }
}

/// What the store knows about the latest alert with a fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracked {
    /// Its status.
    pub status: Status,
    /// Its disposition.
    pub disposition: Disposition,
    /// Its last detection.
    pub last_detection: Timestamp,
}

/// What to do with a new sighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectionDecision {
    /// Update the open alert: last detection, occurrence count, last activity.
    Update,
    /// Open a new alert.
    Open,
    /// The open alert has been quiet longer than the auto-close period:
    /// auto-close it, then open a new alert.
    CloseAndOpen,
    /// Learned or muted: raise nothing, count the suppressed hit.
    Suppress(Disposition),
}

/// Decides what a sighting at `at` does, given the latest alert with the same
/// fingerprint. `quiet_period` is the auto-close period in microseconds.
pub fn on_detection(
    latest: Option<&Tracked>,
    at: Timestamp,
    quiet_period: i64,
) -> DetectionDecision {
    let Some(t) = latest else {
        return DetectionDecision::Open;
    };
    match t.disposition {
        Disposition::Learned | Disposition::Muted => DetectionDecision::Suppress(t.disposition),
        Disposition::None if !t.status.is_open() => DetectionDecision::Open,
        Disposition::None => {
            if at.0 > t.last_detection.0.saturating_add(quiet_period) {
                DetectionDecision::CloseAndOpen
            } else {
                DetectionDecision::Update
            }
        }
    }
}

/// Whether an open alert last seen at `last_detection` is due for auto-close at `now`.
pub fn due_for_auto_close(
    status: Status,
    last_detection: Timestamp,
    now: Timestamp,
    quiet_period: i64,
) -> bool {
    status.is_open() && now.0 > last_detection.0.saturating_add(quiet_period)
}

/// The default auto-close period: 90 days.
pub const DEFAULT_AUTO_CLOSE: i64 = 90 * crate::time::MICROS_PER_DAY;
