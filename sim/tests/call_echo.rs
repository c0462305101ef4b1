//! Talker echo on a satellite route: each end's hybrid returns what reaches it, 12 dB down,
//! so after the 540 ms round trip a terminal hears its own V.21 frames. Without echo
//! cancellers the call fails for our engine and for spandsp alike (a terminal hears and
//! answers its own frames); with cancellers it succeeds. A canceller left "always on" does no harm to
//! T.30 fax: a plain CED has no phase reversals, so a G.168 canceller stays enabled
//! anyway (channel-models' echo tests show the disabler trips only on reversals).

use sim::call::ChannelPreset;
use sim::cmd::call::{CallOutput, CallSetup, EndpointKind, simulate};
use t30::SampleTime;
use t30::engine::Coding;
use t30::frame::dis::modem_name::Modem;
use t30::image::{Bitmap, Resolution};

fn pages() -> Vec<Bitmap> {
    let mut b = Bitmap::new(1728, 200, Resolution::Standard).unwrap();
    b.fill_rect(100, 50, 900, 60, true);
    vec![b]
}

fn call(preset: &str, caller: EndpointKind) -> CallOutput {
    let s = CallSetup {
        caller,
        answerer: EndpointKind::Builtin,
        channel: ChannelPreset::from_name(preset).unwrap(),
        ecm: true,
        modems: vec![Modem::V17, Modem::V29, Modem::V27ter],
        codings: vec![Coding::Mh, Coding::Mr, Coding::Mmr],
        seed: 1,
        limit: SampleTime::from_ms(300_000),
    };
    let dir = tempfile::tempdir().unwrap();
    simulate(&s, &pages().into(), dir.path()).unwrap()
}

fn heard_own(o: &CallOutput) -> bool {
    // Only the answerer sends DIS, FTT and CFR; one arriving at the answerer is its own echo.
    o.answerer
        .frames
        .iter()
        .any(|f| f.dir == "rx" && matches!(f.name.as_str(), "DIS" | "FTT" | "CFR"))
}

#[test]
fn our_engine_survives_talker_echo_without_cancellers() {
    // Each side hears its own frames half a second later; ours takes them for what they
    // are (copies of what it sent) and the page gets through.
    let o = call("pstn-echo-satellite", EndpointKind::Builtin);
    assert!(heard_own(&o), "the answerer should hear its own frames");
    assert_eq!(o.caller.status, "SUCCESS", "{}", o.caller.summary_line());
    assert_eq!(
        o.answerer.status,
        "SUCCESS",
        "{}",
        o.answerer.summary_line()
    );
    assert_eq!(o.received_bitmaps(), pages());
}

#[test]
fn echo_cancellers_make_the_satellite_route_work() {
    for preset in ["pstn-echo-cancelled", "pstn-echo-canceller-always-on"] {
        let o = call(preset, EndpointKind::Builtin);
        assert!(
            !heard_own(&o),
            "{preset}: the canceller should remove the echo"
        );
        for r in [&o.caller, &o.answerer] {
            assert_eq!(r.status, "SUCCESS", "{preset}: {}", r.summary_line());
        }
        assert_eq!(o.received_bitmaps(), pages(), "{preset}");
    }
}

#[test]
fn spandsp_fails_on_talker_echo_too() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let o = call("pstn-echo-satellite", EndpointKind::Spandsp);
    assert_eq!(o.caller.status, "FAILED", "{}", o.caller.summary_line());
    let o = call("pstn-echo-cancelled", EndpointKind::Spandsp);
    assert_eq!(o.caller.status, "SUCCESS", "{}", o.caller.summary_line());
    assert_eq!(
        o.answerer.status,
        "SUCCESS",
        "{}",
        o.answerer.summary_line()
    );
}
