//! Engine against engine over the in-memory transport: the happy paths.

mod engine_pair;
use engine_pair::*;
use t30::completion::Completion;
use t30::engine::Direction;

#[test]
fn non_ecm_one_page() {
    let mut s = simple(1, 30);
    s.a.ecm = false;
    let doc = s.docs_a[0].clone();
    let r = s.run();
    assert_eq!(
        r.result.a.completion,
        Completion::Ok,
        "{:#?}",
        r.result.a.frames
    );
    assert_eq!(r.result.b.completion, Completion::Ok);
    assert_eq!(r.result.a.pages_sent, 1);
    assert_eq!(r.result.b.pages_received, 1);
    let got = r.rx_b.lock().unwrap();
    assert_eq!(got[0].rows, doc[0].rows);
    assert_eq!(r.result.b.remote_ident, "+1 555 0100");
    assert_eq!(r.result.a.remote_ident, "+1 555 0199");
    println!("{:?}", frame_names(&r.result.a, Direction::Tx));
}

fn print_trace(o: &t30::engine::Outcome) {
    for f in &o.frames {
        println!(
            "{:9.3} {:?} {} {} {}",
            f.time.as_secs_f64(),
            f.dir,
            f.name,
            f.hex,
            if f.fcs_ok { "" } else { "BAD" }
        );
    }
}

#[test]
fn ecm_three_pages_multi_block() {
    let mut s = simple(3, 100);
    s.a.ecm_frame_size = t30::engine::EcmFrameSize::Octets64;
    let doc = s.docs_a[0].clone();
    let r = s.run();
    print_trace(&r.result.a);
    assert_eq!(r.result.a.completion, Completion::Ok);
    assert_eq!(r.result.b.completion, Completion::Ok);
    assert!(r.result.a.ecm);
    assert_eq!(r.result.b.pages_received, 3);
    let got = r.rx_b.lock().unwrap();
    for (g, d) in got.iter().zip(doc.iter()) {
        assert_eq!(g.rows, d.rows);
    }
}

#[test]
fn non_ecm_two_docs() {
    let mut s = simple(2, 20);
    s.a.ecm = false;
    s.docs_a.push(vec![TestPage::new(
        9,
        20,
        t30::engine::Resolution::Fine,
        t30::frame::PageWidth::A4,
    )]);
    let r = s.run();
    print_trace(&r.result.a);
    assert_eq!(r.result.a.completion, Completion::Ok);
    assert_eq!(r.result.b.completion, Completion::Ok);
    assert_eq!(r.result.b.pages_received, 3);
    // TSB-85 MRGN09: after MCF to EOM the answerer waits T2, then sends DIS again (5-7 s).
    let b = &r.result.b;
    let mcf = b
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Tx && f.name == "MCF")
        .nth(1)
        .expect("MCF to EOM");
    let dis = b
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Tx && f.name == "DIS")
        .nth(1)
        .expect("second DIS");
    let gap = (dis.time - mcf.time).as_ms();
    assert!((5000..=8500).contains(&gap), "{gap} ms");
}

#[test]
fn nsf_sub_sid_and_ecm_fallback() {
    // NSF/NSS carried when configured; SUB and SID accepted when they match; MTGN06: a
    // caller configured for ECM sends non-ECM to a station without ECM.
    let mut s = simple(1, 10);
    s.b.nsf = Some(vec![0xB5, 0x00, 0x51, 0x01]);
    s.a.nsf = Some(vec![0xB5, 0x00, 0x51, 0x02]);
    s.a.send = vec![
        (t30::frame::Fcf::SUB, "1234".into()),
        (t30::frame::Fcf::SID, "42".into()),
    ];
    s.b.accept = vec![
        (
            t30::frame::Fcf::SUB,
            t30::engine::Accept::OneOf(vec!["1234".into()]),
        ),
        (
            t30::frame::Fcf::SID,
            t30::engine::Accept::OneOf(vec!["42".into()]),
        ),
    ];
    s.b.ecm = false;
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Ok);
    assert_eq!(r.result.b.completion, Completion::Ok);
    assert!(!r.result.a.ecm);
    let tx = frame_names(&r.result.a, Direction::Tx);
    assert_eq!(&tx[..5], ["NSS", "TSI", "SUB", "SID", "DCS"]);
    let nsf = r
        .result
        .a
        .frames
        .iter()
        .find(|f| f.name == "NSF")
        .expect("NSF");
    assert_eq!(nsf.hex, "ff 03 20 b5 00 51 01");
}
