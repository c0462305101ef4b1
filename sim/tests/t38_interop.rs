//! T.38 calls (IFP over UDPTL through the `t38-redundancy-3` path) between our engine and
//! itself or spandsp's `t38_terminal`, in both roles: ECM on and off, one and three pages.
//! Both sides must report SUCCESS and the received pages must be pixel-identical to the
//! sent ones.

use channel_models::chain::ChainSpec;
use sim::session::{SessionOutput, SessionSetup, SideKind, SideSetup, Transport, run_session};
use t30::engine::{Config, Role};
use t30::frame::dis::modem_name::Modem;
use t30::image::testpage::draw_text;
use t30::image::{Bitmap, Resolution};

fn page(index: u32, res: Resolution) -> Bitmap {
    let k = if res == Resolution::Standard { 1 } else { 2 };
    let mut b = Bitmap::new(1728, 160 * k, res).unwrap();
    let text = format!("FAXSIM T38 PAGE {index} 0123456789 THE QUICK BROWN FOX");
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

fn side(kind: &SideKind, role: Role, ecm: bool, pages: Vec<Bitmap>) -> SideSetup {
    let mut config = Config::new(role);
    config.ident = format!(
        "+1 555 {}",
        if role == Role::Caller { "0100" } else { "0199" }
    );
    config.ecm = ecm;
    config.modems = vec![Modem::V17, Modem::V29, Modem::V27ter];
    SideSetup {
        kind: kind.clone(),
        config,
        pages: pages.into(),
    }
}

fn call(caller: SideKind, answerer: SideKind, ecm: bool, pages: &[Bitmap]) -> SessionOutput {
    call_version(caller, answerer, ecm, pages, 0)
}

fn call_version(
    caller: SideKind,
    answerer: SideKind,
    ecm: bool,
    pages: &[Bitmap],
    version: u8,
) -> SessionOutput {
    let mut s = SessionSetup::new(
        side(&caller, Role::Caller, ecm, pages.to_vec()),
        side(&answerer, Role::Answerer, ecm, Vec::new()),
    );
    s.transport = Transport::T38;
    let mut path = ChainSpec::preset("t38-redundancy-3").unwrap();
    if let Some(t) = path.t38.as_mut() {
        t.version = version;
    }
    s.caller_to_answerer = path.clone();
    s.answerer_to_caller = path;
    let dir = tempfile::tempdir().unwrap();
    run_session(&s, dir.path(), false).unwrap()
}

fn check(what: &str, ecm: bool, pages: &[Bitmap], o: &SessionOutput) {
    for r in [&o.caller, &o.answerer] {
        assert_eq!(r.status, "SUCCESS", "{what}: {} {}", r.role, r.error);
        assert_eq!(r.pages as usize, pages.len(), "{what}: {}", r.role);
        assert_eq!(r.ecm, if ecm { "yes" } else { "no" }, "{what}: {}", r.role);
        assert_eq!(r.rate, 14400, "{what}: {}", r.role);
        assert!(!r.limit_reached, "{what}");
    }
    let got = &o.answerer_received.pages;
    assert_eq!(got.len(), pages.len(), "{what}");
    let got: Vec<Bitmap> = got.iter().map(|p| p.bitmap().unwrap()).collect();
    for (i, (got, sent)) in got.iter().zip(pages).enumerate() {
        assert_eq!(
            (got.width(), got.height()),
            (sent.width(), sent.height()),
            "{what}: page {i}"
        );
        assert!(got.data() == sent.data(), "{what}: page {i} pixels differ");
    }
}

fn matrix(caller: SideKind, answerer: SideKind) {
    let one = vec![page(0, Resolution::Standard)];
    let three: Vec<Bitmap> = (0..3).map(|i| page(i, Resolution::Fine)).collect();
    for ecm in [true, false] {
        for pages in [&one, &three] {
            let what = format!(
                "{} -> {} ecm={ecm} pages={}",
                caller.name(),
                answerer.name(),
                pages.len()
            );
            let o = call(caller.clone(), answerer.clone(), ecm, pages);
            check(&what, ecm, pages, &o);
        }
    }
}

#[test]
fn builtin_to_builtin() {
    matrix(SideKind::Builtin, SideKind::Builtin);
}

#[test]
fn builtin_to_spandsp() {
    if spandsp_peer::require().is_none() {
        return;
    }
    matrix(SideKind::Builtin, SideKind::Spandsp);
}

#[test]
fn spandsp_to_builtin() {
    if spandsp_peer::require().is_none() {
        return;
    }
    matrix(SideKind::Spandsp, SideKind::Builtin);
}

#[test]
fn every_t38_version_interworks_with_spandsp() {
    if spandsp_peer::require().is_none() {
        return;
    }
    let pages = vec![page(2, Resolution::Fine)];
    for version in 1..=3 {
        for (caller, answerer) in [
            (SideKind::Builtin, SideKind::Spandsp),
            (SideKind::Spandsp, SideKind::Builtin),
        ] {
            for ecm in [true, false] {
                let what = format!(
                    "T.38 version {version}: {} -> {} ecm={ecm}",
                    caller.name(),
                    answerer.name()
                );
                let o = call_version(caller.clone(), answerer.clone(), ecm, &pages, version);
                check(&what, ecm, &pages, &o);
            }
        }
    }
}

#[test]
fn a_t38_path_over_audio_and_a_script_over_t38_are_setup_errors() {
    let t38 = ChainSpec::preset("t38-redundancy-3").unwrap();
    let mut s = SessionSetup::new(
        side(
            &SideKind::Builtin,
            Role::Caller,
            true,
            vec![page(0, Resolution::Standard)],
        ),
        side(&SideKind::Builtin, Role::Answerer, true, Vec::new()),
    );
    s.caller_to_answerer = t38.clone();
    s.answerer_to_caller = t38;
    let dir = tempfile::tempdir().unwrap();
    let e = run_session(&s, dir.path(), false).unwrap_err().to_string();
    assert!(e.contains("is a T.38 path"), "{e}");
    s.transport = Transport::T38;
    s.answerer.kind = SideKind::Script(Vec::new());
    let e = run_session(&s, dir.path(), false).unwrap_err().to_string();
    assert!(e.contains("cannot be a T.38 terminal"), "{e}");
}

/// A gateway that waits for stragglers (`playout_ms`) turns reordered packets from late
/// into delivered; one that never waits counts them late and drops them.
#[test]
fn a_playout_wait_saves_reordered_packets() {
    let run = |playout_ms: u32| {
        let mut s = SessionSetup::new(
            side(
                &SideKind::Builtin,
                Role::Caller,
                true,
                vec![page(1, Resolution::Standard)],
            ),
            side(&SideKind::Builtin, Role::Answerer, true, Vec::new()),
        );
        s.transport = Transport::T38;
        let path = ChainSpec::from_toml(&format!(
            "name = \"reordering\"\n[t38]\nversion = 0\nredundancy = 0\nplayout_ms = {playout_ms}\n\
             network = {{ delay_ms = 40.0, jitter_ms = 15.0, reorder = 0.2 }}\n"
        ))
        .unwrap();
        s.caller_to_answerer = path.clone();
        s.answerer_to_caller = path;
        let dir = tempfile::tempdir().unwrap();
        run_session(&s, dir.path(), false).unwrap()
    };
    let eager = run(0);
    let patient = run(120);
    let late = |o: &SessionOutput| {
        let t = o.t38.as_ref().expect("a T.38 call has path statistics");
        t.caller_to_answerer.late + t.answerer_to_caller.late
    };
    assert!(
        late(&eager) > 0,
        "reordering without a wait should make packets late"
    );
    assert!(
        late(&patient) < late(&eager),
        "waiting 120 ms: {} late vs {} without waiting",
        late(&patient),
        late(&eager)
    );
    for r in [&patient.caller, &patient.answerer] {
        assert_eq!(r.status, "SUCCESS", "{}", r.summary_line());
    }
}
