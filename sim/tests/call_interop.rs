//! Calls over G.711 A-law between our endpoint and itself or spandsp, in both roles: every
//! fast modem, ECM on and off, one and three pages. Both sides must report SUCCESS with the
//! modem asked for, and the received pages must be pixel-identical to the sent ones.
//! Pages are short (a few hundred rows) to keep the suite quick; the full-page matrix is
//! `scripts/call-matrix.sh`.

use sim::call::ChannelPreset;
use sim::cmd::call::{CallOutput, CallSetup, EndpointKind, simulate};
use t30::SampleTime;
use t30::engine::Coding;
use t30::frame::dis::modem_name::Modem;
use t30::image::testpage::draw_text;
use t30::image::{Bitmap, Resolution};

fn page(index: u32, res: Resolution) -> Bitmap {
    let k = if res == Resolution::Standard { 1 } else { 2 };
    let mut b = Bitmap::new(1728, 160 * k, res).unwrap();
    let text = format!("FAXSIM CALL PAGE {index} 0123456789 THE QUICK BROWN FOX");
    for line in 0..5 {
        draw_text(
            &mut b,
            30 + 40 * line,
            (8 + 28 * line) * k,
            2,
            k,
            &text,
            true,
        );
    }
    let x = 300 + 211 * index;
    b.fill_rect(x, 150 * k, x + 400, 156 * k, true);
    b
}

fn setup(caller: EndpointKind, answerer: EndpointKind, modem: Modem, ecm: bool) -> CallSetup {
    CallSetup {
        caller,
        answerer,
        channel: ChannelPreset::g711_alaw(),
        ecm,
        modems: vec![modem],
        codings: vec![Coding::Mh, Coding::Mr, Coding::Mmr],
        seed: 1,
        limit: SampleTime::from_ms(600_000),
    }
}

fn call(s: &CallSetup, pages: &[Bitmap]) -> CallOutput {
    let dir = tempfile::tempdir().unwrap();
    simulate(s, &pages.into(), dir.path()).unwrap()
}

fn check(s: &CallSetup, pages: &[Bitmap], o: &CallOutput) {
    let what = format!(
        "{:?} -> {:?} {:?} ecm={} pages={}",
        s.caller,
        s.answerer,
        s.modems,
        s.ecm,
        pages.len()
    );
    for r in [&o.caller, &o.answerer] {
        assert_eq!(r.status, "SUCCESS", "{what}: {} {}", r.role, r.error);
        assert_eq!(r.error, "OK", "{what}");
        assert_eq!(r.pages as usize, pages.len(), "{what}: {}", r.role);
        assert_eq!(r.modem, s.modems[0].name(), "{what}: {}", r.role);
        assert_eq!(r.ecm, if s.ecm { "yes" } else { "no" }, "{what}");
        assert!(!r.limit_reached, "{what}");
    }
    assert_eq!(o.received.len(), pages.len(), "{what}");
    for (i, (got, sent)) in o.received_bitmaps().iter().zip(pages).enumerate() {
        assert_eq!(
            (got.width(), got.height()),
            (sent.width(), sent.height()),
            "{what}: page {i}"
        );
        assert!(got.data() == sent.data(), "{what}: page {i} pixels differ");
    }
}

fn matrix(caller: EndpointKind, answerer: EndpointKind) {
    let one = vec![page(0, Resolution::Standard)];
    let three: Vec<Bitmap> = (0..3).map(|i| page(i, Resolution::Fine)).collect();
    for modem in [Modem::V17, Modem::V29, Modem::V27ter] {
        for ecm in [true, false] {
            for pages in [&one, &three] {
                let s = setup(caller, answerer, modem, ecm);
                check(&s, pages, &call(&s, pages));
            }
        }
    }
}

#[test]
fn builtin_to_builtin() {
    matrix(EndpointKind::Builtin, EndpointKind::Builtin);
}

#[test]
fn builtin_to_spandsp() {
    if spandsp_peer::require().is_none() {
        return;
    }
    matrix(EndpointKind::Builtin, EndpointKind::Spandsp);
}

#[test]
fn spandsp_to_builtin() {
    if spandsp_peer::require().is_none() {
        return;
    }
    matrix(EndpointKind::Spandsp, EndpointKind::Builtin);
}

#[test]
fn every_coding_is_negotiated_and_delivered() {
    let pages = vec![page(1, Resolution::Fine)];
    let mut pairs = vec![(EndpointKind::Builtin, EndpointKind::Builtin)];
    if spandsp_peer::require().is_some() {
        pairs.push((EndpointKind::Builtin, EndpointKind::Spandsp));
        pairs.push((EndpointKind::Spandsp, EndpointKind::Builtin));
    }
    for (a, b) in pairs {
        for (coding, name, ecm) in [
            (Coding::Mh, "MH", false),
            (Coding::Mr, "MR", false),
            (Coding::Mmr, "MMR", true),
        ] {
            let mut s = setup(a, b, Modem::V17, ecm);
            s.codings = vec![coding];
            let o = call(&s, &pages);
            check(&s, &pages, &o);
            assert_eq!(o.caller.coding, name, "{a:?} -> {b:?}");
            assert_eq!(o.answerer.coding, name, "{a:?} -> {b:?}");
        }
    }
}

#[test]
fn the_time_limit_ends_the_call_and_says_so() {
    let pages = vec![page(0, Resolution::Standard)];
    let mut s = setup(
        EndpointKind::Builtin,
        EndpointKind::Builtin,
        Modem::V17,
        true,
    );
    s.limit = SampleTime::from_ms(8_000);
    let o = call(&s, &pages);
    for r in [&o.caller, &o.answerer] {
        assert!(r.limit_reached);
        assert_eq!(r.status, "FAILED");
        assert_eq!(r.error, "The call dropped prematurely");
    }
}

#[test]
fn spandsp_and_our_completion_strings_agree() {
    let Some(sp) = spandsp_peer::require() else {
        return;
    };
    // The records of both endpoints carry the same strings for the same codes.
    let fax = spandsp_peer::fax::Fax::new(&sp, &spandsp_peer::fax::FaxConfig::new(true)).unwrap();
    for c in t30::completion::Completion::all() {
        assert_eq!(
            fax.completion_text(c.code() as i32),
            c.text(),
            "code {}",
            c.code()
        );
    }
}
