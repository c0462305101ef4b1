//! Must-show 4: golden traces. The frame sequence (time, direction, name, hex) of a standard
//! 2-page V.17 ECM call and a 2-page non-ECM V.29 call, compared byte for byte with the
//! committed files. `UPDATE_GOLDEN=1` rewrites them after a deliberate change.

mod engine_pair;
use engine_pair::*;
use t30::engine::{Config, Direction, Outcome, Resolution, Role};
use t30::frame::dis::modem_name::Modem;

fn render(caller: &Outcome, answerer: &Outcome) -> String {
    let mut lines: Vec<(u64, String)> = Vec::new();
    for (who, o) in [("caller", caller), ("answerer", answerer)] {
        for f in o.frames.iter().filter(|f| f.dir == Direction::Tx) {
            lines.push((
                f.time.0,
                format!(
                    "{:10.4} {who:<8} {:<4} {}{}",
                    f.time.as_secs_f64(),
                    f.name,
                    f.hex,
                    if f.fcs_ok { "" } else { " (bad FCS)" }
                ),
            ));
        }
    }
    lines.sort_by_key(|l| l.0);
    let mut out: String = lines.into_iter().map(|l| l.1 + "\n").collect();
    for (who, o) in [("caller", caller), ("answerer", answerer)] {
        out += &format!(
            "# {who}: {} \"{}\" pages sent {} received {} rate {:?} ecm {}\n",
            o.completion.code(),
            o.completion.text(),
            o.pages_sent,
            o.pages_received,
            o.rate,
            o.ecm
        );
    }
    out
}

fn check(name: &str, got: &str) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var("UPDATE_GOLDEN").is_ok() {
        std::fs::write(&path, got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).expect("golden file present");
    if want != got {
        for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
            assert_eq!(w, g, "{name}: first difference at line {}", i + 1);
        }
        assert_eq!(
            want.lines().count(),
            got.lines().count(),
            "{name}: line count"
        );
        assert_eq!(want, got, "{name}");
    }
}

fn configs() -> (Config, Config) {
    let mut a = Config::new(Role::Caller);
    a.ident = "+44 20 7946 0000".into();
    let mut b = Config::new(Role::Answerer);
    b.ident = "+44 20 7946 0999".into();
    // The golden traces hold the coded image data of every FCD frame.
    a.trace_ecm_data = true;
    b.trace_ecm_data = true;
    (a, b)
}

#[test]
fn golden_v17_ecm_two_pages() {
    let (a, b) = configs();
    let pages = vec![
        real_page(1, 100, Resolution::Fine),
        real_page(2, 100, Resolution::Fine),
    ];
    let (r, _, kb) = run_real(a, vec![pages], b, vec![]);
    assert_eq!(kb.lock().unwrap().len(), 2);
    assert_eq!(r.a.modem, Some(Modem::V17));
    check("v17_ecm_2_pages.txt", &render(&r.a, &r.b));
}

#[test]
fn golden_v29_non_ecm_two_pages() {
    let (mut a, mut b) = configs();
    a.ecm = false;
    a.modems = vec![Modem::V27ter, Modem::V29];
    b.modems = vec![Modem::V27ter, Modem::V29];
    let pages = vec![
        real_page(3, 100, Resolution::Standard),
        real_page(4, 100, Resolution::Standard),
    ];
    let (r, _, kb) = run_real(a, vec![pages], b, vec![]);
    assert_eq!(kb.lock().unwrap().len(), 2);
    assert_eq!((r.a.modem, r.a.rate), (Some(Modem::V29), Some(9600)));
    check("v29_non_ecm_2_pages.txt", &render(&r.a, &r.b));
}
