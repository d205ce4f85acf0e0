use super::*;
use casetrail_exchange::parse_record;

fn event(json: &str) -> Event {
    parse_record(json.as_bytes()).expect("valid record")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

const REGISTERED: &str = r#"{"type":"appeal.registered","at":"2026-03-02T10:15:00+05:00","appeal":"A-1","agency":"akimat","applicant":{"iin":"850808310738"},"channel":"portal","kind":"complaint","category":"housing"}"#;

fn forward(at: &str, from: &str, to: &str) -> Event {
    event(&format!(
        r#"{{"type":"appeal.forwarded","at":"{at}T10:00:00+05:00","appeal":"A-1","from":"{from}","to":"{to}","reason":"not_in_competence"}}"#
    ))
}

fn answer(at: &str, agency: &str) -> Event {
    event(&format!(
        r#"{{"type":"appeal.answered","at":"{at}T10:00:00+05:00","appeal":"A-1","agency":"{agency}","outcome":"explained"}}"#
    ))
}

/// Applies events in order with sequence numbers 1, 2, ...; returns the
/// final state and every violation as (kind, agency, events).
type Found = Vec<(&'static str, String, Vec<u64>)>;

fn run(events: &[Event]) -> (AppealState, Found) {
    let mut state: Option<AppealState> = None;
    let mut found = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let decision = decide(state.as_ref(), event, index as u64 + 1).expect("accepted");
        found.extend(decision.violations.into_iter().map(|v| (v.kind.as_str(), v.agency.to_string(), v.events)));
        state = Some(decision.state);
    }
    (state.expect("some events"), found)
}

#[test]
fn forward_moves_the_appeal_and_keeps_the_first_registration() {
    let registered = apply(None, &event(REGISTERED)).expect("registered");
    let forwarded = apply(Some(&registered), &forward("2026-03-03", "akimat", "police")).expect("forwarded");
    assert_eq!(forwarded.holder().as_str(), "police");
    assert_eq!(forwarded.first().agency.as_str(), "akimat");
    assert_eq!(forwarded.forwards(), 1);
    assert_eq!(forwarded.applicant.as_deref(), Some("850808310738"));
}

#[test]
fn impossible_events_are_refused_with_a_reason() {
    let registered = apply(None, &event(REGISTERED)).expect("registered");
    let not_holder = apply(Some(&registered), &answer("2026-03-03", "police"));
    assert!(not_holder.expect_err("refused").reason.contains("does not hold"));
    assert!(apply(Some(&registered), &event(REGISTERED)).expect_err("refused").reason.contains("already registered"));
    let unknown = apply(
        None,
        &event(
            r#"{"type":"appeal.forwarded","at":"2026-03-03T09:00:00+05:00","appeal":"A-9","from":"a","to":"b","reason":"other"}"#,
        ),
    );
    assert!(unknown.expect_err("refused").reason.contains("no appeal"));
    let answered = apply(Some(&registered), &answer("2026-03-03", "akimat")).expect("answered");
    let late_forward = apply(Some(&answered), &forward("2026-03-04", "akimat", "b"));
    assert!(late_forward.expect_err("refused").reason.contains("already answered"));
}

#[test]
fn registration_day_is_the_kazakhstan_local_day() {
    // 20:30 UTC on 1 March 2026 is already 2 March in Kazakhstan (UTC+5).
    let late = REGISTERED.replace("2026-03-02T10:15:00+05:00", "2026-03-01T20:30:00Z");
    let state = apply(None, &event(&late)).expect("registered");
    assert_eq!(state.first().received_on, day(2026, 3, 2));
}

#[test]
fn appc_due_date_crosses_nauryz_and_restarts_at_the_receiving_body() {
    let (state, found) = run(&[event(REGISTERED)]);
    // Mon 2 Mar 2026: working days after it 3,4,5,6 | 10..13 | 16..20 | 26,27
    // (9 Mar and 23–25 Mar are days off): the 15th is Fri 27 Mar.
    assert_eq!(state.statutory_due(), day(2026, 3, 27));
    assert_eq!(state.current().forward_by, day(2026, 3, 5));
    assert_eq!(state.current().regime, "appc-76");
    assert!(found.is_empty());
    // Forwarded on Fri 20 Mar: the police's term restarts: 26,27,30,31,
    // 1,2,3,6,7,8,9,10,13,14,15 April -> 15 Apr.
    let (state, found) = run(&[event(REGISTERED), forward("2026-03-20", "akimat", "police")]);
    assert_eq!(state.statutory_due(), day(2026, 4, 15));
    assert_eq!(state.first().due, day(2026, 3, 27), "the first body's term is kept");
    assert_eq!(found, vec![("late_forward", "akimat".to_owned(), vec![1, 2])]);
    // The citizen's clock never restarts: Tue 3 Mar .. Wed 15 Apr.
    assert_eq!(state.citizen_working_days(day(2026, 4, 15)).expect("clock"), 28);
}

#[test]
fn the_law_of_2007_counts_calendar_days_and_allows_30_with_an_extension() {
    let old = REGISTERED.replace("2026-03-02", "2021-06-14");
    let (state, _) = run(&[event(&old)]);
    assert_eq!(state.current().regime, "law-2007-221");
    assert_eq!(state.statutory_due(), day(2021, 6, 29));
    assert_eq!(state.current().extension_max, day(2021, 7, 14));
    let extend = |until: &str| {
        event(&format!(
            r#"{{"type":"appeal.extended","at":"2021-06-20T10:00:00+05:00","appeal":"A-1","agency":"akimat","until":"{until}","reason":"inspection"}}"#
        ))
    };
    let (_, found) = run(&[event(&old), extend("2021-07-14")]);
    assert!(found.is_empty());
    let (state, found) = run(&[event(&old), extend("2021-07-15")]);
    assert_eq!(found, vec![("extension_beyond_max", "akimat".to_owned(), vec![1, 2])]);
    assert_eq!(state.statutory_due(), day(2021, 7, 15), "the until replaces the due date");
    // A forward on 1 July 2021 starts a turn under the APPC.
    let (state, _) = run(&[event(&old), forward("2021-07-01", "akimat", "police")]);
    assert_eq!(state.current().regime, "appc-76");
}

#[test]
fn cycles_hot_potatoes_and_last_day_forwards_are_caught_as_they_happen() {
    let (state, found) = run(&[
        event(REGISTERED),
        forward("2026-03-03", "akimat", "police"),
        forward("2026-03-04", "police", "akimat"),
        forward("2026-03-05", "akimat", "health"),
    ]);
    assert_eq!(
        found,
        vec![("ping_pong", "police".to_owned(), vec![1, 3]), ("hot_potato", "akimat".to_owned(), vec![2, 3, 4]),]
    );
    assert!(state.cycle() && state.wandering());
    assert_eq!(state.path(), vec!["akimat", "police", "akimat", "health"]);
    // Forwarded on the holder's last day (and late: after 5 Mar).
    let (_, found) = run(&[event(REGISTERED), forward("2026-03-27", "akimat", "police")]);
    let kinds: Vec<&str> = found.iter().map(|(kind, _, _)| *kind).collect();
    assert_eq!(kinds, vec!["late_forward", "forward_on_last_day"]);
}

#[test]
fn a_late_answer_cites_the_receipt_the_extension_and_the_answer() {
    let extend = event(
        r#"{"type":"appeal.extended","at":"2026-03-20T10:00:00+05:00","appeal":"A-1","agency":"akimat","until":"2026-04-10","reason":"inspection"}"#,
    );
    let (state, found) = run(&[event(REGISTERED), extend.clone(), answer("2026-04-10", "akimat")]);
    assert!(found.is_empty(), "answered on the extended due date is on time");
    assert_eq!(state.current().answered_on_time(), Some(true));
    let (state, found) = run(&[event(REGISTERED), extend, answer("2026-04-13", "akimat")]);
    assert_eq!(found, vec![("late_answer", "akimat".to_owned(), vec![1, 2, 3])]);
    assert_eq!(state.current().answered_on_time(), Some(false));
}

#[test]
fn the_assigned_body_cannot_forward_and_the_attempt_is_recorded() {
    let assigned = event(
        r#"{"type":"appeal.assigned","at":"2026-03-06T10:00:00+05:00","appeal":"A-1","to":"police","by":"prosecutor-astana"}"#,
    );
    let (state, found) = run(&[
        event(REGISTERED),
        forward("2026-03-03", "akimat", "police"),
        forward("2026-03-04", "police", "akimat"),
        assigned,
        forward("2026-03-10", "police", "health"),
    ]);
    assert_eq!(state.holder().as_str(), "police", "the refused forward does not move it");
    assert_eq!(state.current().via, Via::Assigned);
    assert_eq!(state.forwards(), 2);
    assert_eq!(state.refused_forwards.len(), 1);
    assert_eq!(found.last(), Some(&("assigned_forward_attempt", "police".to_owned(), vec![4, 5])));
}

#[test]
fn a_saturday_registration_counts_from_the_next_working_day() {
    let saturday = REGISTERED.replace("2026-03-02T10:15", "2026-03-07T10:15");
    let (state, _) = run(&[event(&saturday)]);
    // Sat 7 Mar -> Tue 10 Mar (Mon 9 Mar is a holiday); 15 working days
    // after: 11,12,13,16,17,18,19,20,26,27,30,31, 1,2,3 Apr.
    assert_eq!(state.statutory_due(), day(2026, 4, 3));
    // The citizen's clock starts where the statutory one does: registered
    // on Saturday counts as registered on Tue 10 Mar, so that day is day 0
    // and the due date is day 15 on both clocks.
    assert_eq!(state.citizen_working_days(day(2026, 3, 10)).expect("clock"), 0);
    assert_eq!(state.citizen_working_days(day(2026, 3, 11)).expect("clock"), 1);
    assert_eq!(state.citizen_working_days(day(2026, 4, 3)).expect("clock"), 15);
}

#[test]
fn the_citizen_view_lists_every_stop_with_both_clocks() {
    let (state, _) = run(&[event(REGISTERED), forward("2026-03-04", "akimat", "police")]);
    let view = view::citizen_view(&state, |_| None, day(2026, 3, 6)).expect("view");
    assert_eq!(view.holder, "police");
    assert_eq!(view.stops.len(), 2);
    assert_eq!(view.stops[0].working_days_held, 2);
    assert_eq!(view.stops[0].forward_reason, Some(ForwardReason::NotInCompetence));
    assert_eq!(view.stops[1].working_days_held, 2);
    assert_eq!(view.citizen_working_days, 4);
    assert_eq!(view.statutory_working_days, 2);
    // 4 Mar + 15 working days: 5,6,10..13,16..20,26,27,30,31.
    assert_eq!(view.statutory_due, Some(day(2026, 3, 31)));
    assert!(!view.overdue);
}

#[test]
fn repeats_link_to_the_latest_answer_within_the_window() {
    let rules = rules::rules().expect("rules");
    let (answered, _) = run(&[event(REGISTERED), answer("2026-03-10", "akimat")]);
    let mut thread = repeat::ApplicantThread::default();
    assert_eq!(thread.repeat_of(rules, day(2026, 3, 5)), None, "not answered yet");
    thread.answered(&answered);
    let link = thread.repeat_of(rules, day(2026, 6, 8)).expect("within 90 days");
    assert_eq!((link.appeal.as_str(), link.agency.as_str()), ("A-1", "akimat"));
    assert_eq!(thread.repeat_of(rules, day(2026, 6, 9)), None, "91 days later");
}

fn accept(at: &str, agency: &str) -> Event {
    event(&format!(r#"{{"type":"appeal.accepted","at":"{at}T11:00:00+05:00","appeal":"A-1","agency":"{agency}"}}"#))
}

#[test]
fn accepting_marks_the_turn_and_moves_no_clock() {
    let registered = apply(None, &event(REGISTERED)).expect("registered");
    let accepted = apply(Some(&registered), &accept("2026-03-04", "akimat")).expect("accepted");
    assert_eq!(accepted.current().accepted_on, Some(day(2026, 3, 4)));
    assert_eq!(accepted.current().statutory_due(), registered.current().statutory_due());
    // Accepting twice, or by a body that does not hold the appeal, cannot be true.
    let twice = apply(Some(&accepted), &accept("2026-03-05", "akimat")).expect_err("refused");
    assert!(twice.reason.contains("already accepted"), "{}", twice.reason);
    let stranger = apply(Some(&registered), &accept("2026-03-04", "police")).expect_err("refused");
    assert!(stranger.reason.contains("does not hold"), "{}", stranger.reason);
    // The receiving body of a forward accepts its own turn afresh.
    let forwarded = apply(Some(&accepted), &forward("2026-03-05", "akimat", "police")).expect("forwarded");
    assert_eq!(forwarded.current().accepted_on, None);
    let again = apply(Some(&forwarded), &accept("2026-03-06", "police")).expect("accepted by the new holder");
    assert_eq!(again.current().accepted_on, Some(day(2026, 3, 6)));
    let answered = apply(Some(&again), &answer("2026-03-10", "police")).expect("answered");
    assert!(apply(Some(&answered), &accept("2026-03-11", "police")).is_err(), "an answered appeal is not accepted");
}
