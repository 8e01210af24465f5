//! Table tests of the alert lifecycle: every action from every reachable state,
//! and every de-duplication decision, including the forbidden ones.

use otwatch_model::lifecycle::{
    Action, DetectionDecision, Effect, LifecycleError, LifecycleState, Tracked, apply,
    due_for_auto_close, on_detection,
};
use otwatch_model::{Disposition, Severity, Status, Timestamp};

use Disposition::{Learned, Muted, None as Plain};
use Status::{Active, Closed, New};

fn st(status: Status, disposition: Disposition) -> LifecycleState {
    LifecycleState {
        status,
        disposition,
        severity: Severity::Major,
        learnable: true,
        mutable: true,
    }
}

/// Expected outcome: the state after, whether it changed, the effects; or the error.
enum Want {
    To(Status, Disposition, bool, &'static [&'static str]),
    Err(LifecycleError),
}

fn effect_name(e: &Effect) -> String {
    match e {
        Effect::AddToBaseline => "baseline+".into(),
        Effect::RemoveFromBaseline => "baseline-".into(),
        Effect::AddComment(_) => "comment".into(),
        Effect::Timeline(t) => format!("event:{t}"),
    }
}

#[test]
fn every_action_from_every_state() {
    let ok = |s, d, c, e| Want::To(s, d, c, e);
    #[rustfmt::skip]
    let table: Vec<(Status, Disposition, Action, Want)> = vec![
        // -- status changes ------------------------------------------------
        (New,    Plain,   Action::SetStatus(New),    ok(New, Plain, false, &[])),
        (New,    Plain,   Action::SetStatus(Active), ok(Active, Plain, true, &[])),
        (New,    Plain,   Action::SetStatus(Closed), ok(Closed, Plain, true, &["event:ALERT_CLOSED"])),
        (Active, Plain,   Action::SetStatus(New),    ok(New, Plain, true, &[])),
        (Active, Plain,   Action::SetStatus(Active), ok(Active, Plain, false, &[])),
        (Active, Plain,   Action::SetStatus(Closed), ok(Closed, Plain, true, &["event:ALERT_CLOSED"])),
        (Closed, Plain,   Action::SetStatus(New),    ok(New, Plain, true, &[])),
        (Closed, Plain,   Action::SetStatus(Active), ok(Active, Plain, true, &[])),
        (Closed, Plain,   Action::SetStatus(Closed), ok(Closed, Plain, false, &[])),
        (Closed, Learned, Action::SetStatus(New),    Want::Err(LifecycleError::SuppressedCannotReopen(Learned))),
        (Closed, Learned, Action::SetStatus(Active), Want::Err(LifecycleError::SuppressedCannotReopen(Learned))),
        (Closed, Learned, Action::SetStatus(Closed), ok(Closed, Learned, false, &[])),
        (Closed, Muted,   Action::SetStatus(New),    Want::Err(LifecycleError::SuppressedCannotReopen(Muted))),
        (Closed, Muted,   Action::SetStatus(Active), Want::Err(LifecycleError::SuppressedCannotReopen(Muted))),
        (Closed, Muted,   Action::SetStatus(Closed), ok(Closed, Muted, false, &[])),
        // -- learn / unlearn -------------------------------------------------
        (New,    Plain,   Action::Learn,   ok(Closed, Learned, true, &["baseline+", "event:ALERT_LEARNED"])),
        (Active, Plain,   Action::Learn,   ok(Closed, Learned, true, &["baseline+", "event:ALERT_LEARNED"])),
        (Closed, Plain,   Action::Learn,   ok(Closed, Learned, true, &["baseline+", "event:ALERT_LEARNED"])),
        (Closed, Learned, Action::Learn,   ok(Closed, Learned, false, &[])),
        (Closed, Muted,   Action::Learn,   Want::Err(LifecycleError::MutedCannotLearn)),
        (New,    Plain,   Action::Unlearn, Want::Err(LifecycleError::NotLearned)),
        (Closed, Plain,   Action::Unlearn, Want::Err(LifecycleError::NotLearned)),
        (Closed, Muted,   Action::Unlearn, Want::Err(LifecycleError::NotLearned)),
        (Closed, Learned, Action::Unlearn, ok(Closed, Plain, true, &["baseline-", "event:ALERT_UNLEARNED"])),
        // -- mute / unmute (no timeline item for mute) -----------------------
        (New,    Plain,   Action::Mute,   ok(Closed, Muted, true, &[])),
        (Active, Plain,   Action::Mute,   ok(Closed, Muted, true, &[])),
        (Closed, Plain,   Action::Mute,   ok(Closed, Muted, true, &[])),
        (Closed, Muted,   Action::Mute,   ok(Closed, Muted, false, &[])),
        (Closed, Learned, Action::Mute,   Want::Err(LifecycleError::LearnedCannotMute)),
        (New,    Plain,   Action::Unmute, Want::Err(LifecycleError::NotMuted)),
        (Closed, Learned, Action::Unmute, Want::Err(LifecycleError::NotMuted)),
        (Closed, Muted,   Action::Unmute, ok(Closed, Plain, true, &[])),
        // -- comments ----------------------------------------------------------
        (New,    Plain,   Action::Comment("looked at it".into()), ok(New, Plain, true, &["comment"])),
        (Closed, Learned, Action::Comment("still fine".into()),   ok(Closed, Learned, true, &["comment"])),
        (New,    Plain,   Action::Comment("   ".into()),          Want::Err(LifecycleError::EmptyComment)),
        (New,    Plain,   Action::Comment("x".repeat(4001)),      Want::Err(LifecycleError::CommentTooLong)),
        // -- auto-close --------------------------------------------------------
        (New,    Plain,   Action::AutoClose, ok(Closed, Plain, true, &["event:ALERT_CLOSED"])),
        (Active, Plain,   Action::AutoClose, ok(Closed, Plain, true, &["event:ALERT_CLOSED"])),
        (Closed, Plain,   Action::AutoClose, ok(Closed, Plain, false, &[])),
        (Closed, Muted,   Action::AutoClose, ok(Closed, Muted, false, &[])),
    ];
    for (i, (status, disp, action, want)) in table.into_iter().enumerate() {
        let got = apply(&st(status, disp), &action);
        match (want, got) {
            (Want::To(s, d, changed, effects), Ok(t)) => {
                assert_eq!(
                    (t.after.status, t.after.disposition, t.changed),
                    (s, d, changed),
                    "row {i}: {status} {disp} {action:?}"
                );
                let names: Vec<String> = t.effects.iter().map(effect_name).collect();
                assert_eq!(
                    names,
                    effects.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    "row {i}"
                );
                assert_eq!(
                    t.changed,
                    !t.summary.is_empty(),
                    "row {i}: a change has a summary, a no-op none"
                );
            }
            (Want::Err(e), Err(g)) => assert_eq!(g, e, "row {i}"),
            (Want::To(..), Err(e)) => panic!("row {i}: {status} {disp} {action:?} refused: {e}"),
            (Want::Err(e), Ok(t)) => panic!("row {i}: expected {e:?}, got {t:?}"),
        }
    }
}

#[test]
fn type_permissions_are_enforced() {
    let mut s = st(New, Plain);
    s.learnable = false;
    assert_eq!(apply(&s, &Action::Learn), Err(LifecycleError::NotLearnable));
    s.mutable = false;
    assert_eq!(apply(&s, &Action::Mute), Err(LifecycleError::NotMutable));
    // The messages say why and what to do instead.
    assert!(LifecycleError::NotLearnable.to_string().contains("mute it instead"));
    assert!(
        LifecycleError::SuppressedCannotReopen(Learned)
            .to_string()
            .contains("unlearn it before reopening")
    );
    assert!(
        LifecycleError::SuppressedCannotReopen(Muted)
            .to_string()
            .contains("unmute it before reopening")
    );
}

#[test]
fn severity_changes() {
    let s = st(Active, Plain);
    let t = apply(&s, &Action::SetSeverity(Severity::Critical)).unwrap();
    assert_eq!((t.after.severity, t.after.status, t.changed), (Severity::Critical, Active, true));
    assert_eq!(t.summary, "severity Major → Critical");
    assert!(!apply(&s, &Action::SetSeverity(Severity::Major)).unwrap().changed);
    // Severity may change on a closed, learned alert too.
    assert!(apply(&st(Closed, Learned), &Action::SetSeverity(Severity::Minor)).unwrap().changed);
}

#[test]
fn repeat_detections() {
    const Q: i64 = 90 * 86_400 * 1_000_000;
    let at = |s: i64| Timestamp(s * 1_000_000);
    let tracked =
        |status, disposition, last: i64| Tracked { status, disposition, last_detection: at(last) };
    #[rustfmt::skip]
    let table = vec![
        (None,                                  at(10),              DetectionDecision::Open),
        (Some(tracked(New, Plain, 5)),           at(10),              DetectionDecision::Update),
        (Some(tracked(Active, Plain, 5)),        at(10),              DetectionDecision::Update),
        (Some(tracked(New, Plain, 5)),           at(1),               DetectionDecision::Update),
        (Some(tracked(New, Plain, 0)),           at(90 * 86_400),     DetectionDecision::Update),
        (Some(tracked(New, Plain, 0)),           at(90 * 86_400 + 1), DetectionDecision::CloseAndOpen),
        (Some(tracked(Active, Plain, 0)),        at(100 * 86_400),    DetectionDecision::CloseAndOpen),
        (Some(tracked(Closed, Plain, 5)),        at(10),              DetectionDecision::Open),
        (Some(tracked(Closed, Learned, 5)),      at(10),              DetectionDecision::Suppress(Learned)),
        (Some(tracked(Closed, Muted, 5)),        at(10),              DetectionDecision::Suppress(Muted)),
        (Some(tracked(Closed, Learned, 0)),      at(400 * 86_400),    DetectionDecision::Suppress(Learned)),
    ];
    for (i, (t, when, want)) in table.into_iter().enumerate() {
        assert_eq!(on_detection(t.as_ref(), when, Q), want, "row {i}");
    }
    assert!(due_for_auto_close(New, at(0), at(90 * 86_400 + 1), Q));
    assert!(!due_for_auto_close(New, at(0), at(90 * 86_400), Q));
    assert!(!due_for_auto_close(Closed, at(0), at(400 * 86_400), Q));
}
