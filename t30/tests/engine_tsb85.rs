//! TSB-85 procedures the other engine tests do not cover: turning a call around to poll
//! after EOM (ORGP09/ORGP10), the 5 s scan-line limit (MRGN03) and unknown non-final
//! frames (MRGX10). `a` is the caller, `b` the answerer.

mod engine_pair;
use engine_pair::*;
use t30::completion::Completion;
use t30::engine::codec::DecodingSink;
use t30::engine::{
    Config, Direction, DocumentSource, EncodedPage, Engine, FrameFault, FrameRule, PageInfo,
    PageParams, Resolution, Role, Turnaround,
};
use t30::frame::dis::modem_name::Modem;
use t30::frame::{Fcf, PageWidth};
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};
use t30::time::SampleTime;

/// `a` sends one page with EOM and then polls `b`, which holds one page (non-ECM, as in
/// TSB-85).
fn send_then_poll(turnaround: Turnaround) -> (Run, Vec<TestPage>, Vec<TestPage>) {
    let mut s = simple(1, 12);
    s.a.ecm = false;
    s.b.ecm = false;
    s.a.poll = true;
    s.a.turnaround = turnaround;
    s.docs_b = vec![vec![TestPage::new(
        7,
        12,
        Resolution::Standard,
        PageWidth::A4,
    )]];
    let (sent_a, sent_b) = (s.docs_a[0].clone(), s.docs_b[0].clone());
    (s.run(), sent_a, sent_b)
}

fn check_turnaround(r: &Run, sent_a: &[TestPage], sent_b: &[TestPage]) {
    let (a, b) = (&r.result.a, &r.result.b);
    for (side, o) in [("caller", a), ("answerer", b)] {
        assert_eq!(o.completion, Completion::Ok, "{side}");
        assert_eq!(o.completion.text(), "OK");
        assert_eq!(o.pages_sent, 1, "{side}");
        assert_eq!(o.pages_received, 1, "{side}");
    }
    // Both directions bit-exact.
    assert_eq!(r.rx_b.lock().unwrap()[0].rows, sent_a[0].rows);
    assert_eq!(r.rx_a.lock().unwrap()[0].rows, sent_b[0].rows);
    // `b` transmits at V.17/14400 (ORGP09's expectation).
    assert_eq!((b.modem, b.rate), (Some(Modem::V17), Some(14400)));
    let tx_a = frame_names(a, Direction::Tx);
    assert!(tx_a.contains(&"EOM".to_string()) && !tx_a.contains(&"EOP".to_string()));
    let tx_b = frame_names(b, Direction::Tx);
    assert!(tx_b.contains(&"EOP".to_string()));
}

#[test]
fn orgp09_send_eom_then_poll_after_dis() {
    let (r, sa, sb) = send_then_poll(Turnaround::AwaitDis);
    check_turnaround(&r, &sa, &sb);
    // `b` opens phase B again with DIS (T2 after its MCF); `a` answers it with DTC.
    let b = &r.result.b;
    let dis = frame_names(b, Direction::Tx)
        .iter()
        .filter(|n| *n == "DIS")
        .count();
    assert_eq!(dis, 2);
    let seq: Vec<String> = r
        .result
        .a
        .frames
        .iter()
        .map(|f| format!("{:?}:{}", f.dir, f.name))
        .collect();
    let eom = seq.iter().position(|n| n == "Tx:EOM").expect("EOM");
    let after: Vec<&str> = seq[eom..]
        .iter()
        .map(String::as_str)
        .filter(|n| matches!(*n, "Tx:EOM" | "Rx:MCF" | "Rx:DIS" | "Tx:DTC" | "Rx:DCS"))
        .take(5)
        .collect();
    assert_eq!(after, ["Tx:EOM", "Rx:MCF", "Rx:DIS", "Tx:DTC", "Rx:DCS"]);
    let mcf = r.result.a.frames[eom..]
        .iter()
        .find(|f| f.name == "MCF")
        .expect("MCF");
    let dis2 = r.result.a.frames[eom..]
        .iter()
        .find(|f| f.name == "DIS")
        .expect("DIS");
    // The answerer waited T2 (6 s) before re-opening phase B.
    assert!((dis2.time - mcf.time).as_ms() >= 6000);
}

#[test]
fn orgp10_send_eom_then_dtc_straight_after_mcf() {
    let (r, sa, sb) = send_then_poll(Turnaround::Immediate);
    check_turnaround(&r, &sa, &sb);
    let seq: Vec<String> = r
        .result
        .a
        .frames
        .iter()
        .map(|f| format!("{:?}:{}", f.dir, f.name))
        .collect();
    let eom = seq.iter().position(|n| n == "Tx:EOM").expect("EOM");
    assert_eq!(seq[eom + 1..eom + 4], ["Rx:MCF", "Tx:CIG", "Tx:DTC"]);
    let dtc = seq.iter().position(|n| n == "Tx:DTC").expect("DTC");
    assert!(seq[eom..dtc].iter().all(|n| n != "Rx:DIS"), "{seq:?}");
    // `b` sent DIS once only: the DTC came before its T2 ran out.
    let dis = frame_names(&r.result.b, Direction::Tx)
        .iter()
        .filter(|n| *n == "DIS")
        .count();
    assert_eq!(dis, 1);
}

#[test]
fn send_then_poll_in_ecm() {
    // The same turnaround with the EOM carried in the last PPS.
    for t in [Turnaround::AwaitDis, Turnaround::Immediate] {
        let mut s = simple(2, 12);
        s.a.poll = true;
        s.a.turnaround = t;
        s.docs_b = vec![vec![TestPage::new(9, 12, Resolution::Fine, PageWidth::A4)]];
        let want = s.docs_b[0].clone();
        let r = s.run();
        assert_eq!(r.result.a.completion, Completion::Ok, "{t:?}");
        assert_eq!(r.result.b.completion, Completion::Ok, "{t:?}");
        assert!(r.result.a.ecm && r.result.b.ecm);
        assert_eq!(r.result.b.pages_received, 2);
        assert_eq!(r.rx_a.lock().unwrap()[0].rows, want[0].rows);
        let dtc = frame_names(&r.result.a, Direction::Tx)
            .iter()
            .filter(|n| *n == "DTC")
            .count();
        assert_eq!(dtc, 1, "{t:?}");
    }
}

#[test]
fn polling_after_sending_from_a_station_with_nothing_to_send() {
    // `b` has no documents: its DIS after EOM lacks bit 9, so `a` cannot poll.
    let mut s = simple(1, 12);
    s.a.poll = true;
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::TxIncapable);
    assert_eq!(
        r.result.a.completion.text(),
        "Far end is not able to transmit"
    );
    assert_eq!(r.result.a.pages_sent, 1);
    assert_eq!(r.result.b.pages_received, 1);
    assert_eq!(r.result.b.completion, Completion::RxDcnwhy);
}

// ---------------------------------------------------------------- MRGN03

/// Pages sent exactly as the test-page generator coded them (stretched scan lines).
struct CodedDoc(Vec<Vec<u8>>);

impl DocumentSource for CodedDoc {
    fn pages(&self) -> usize {
        self.0.len()
    }
    fn page_info(&self, _: usize) -> PageInfo {
        PageInfo {
            resolution: Resolution::Standard,
            width: PageWidth::A4,
        }
    }
    fn encode_page(&mut self, page: usize, p: &PageParams) -> Result<EncodedPage, Completion> {
        // The pages are MH at standard resolution with no minimum row length.
        assert_eq!(p.coding, t30::engine::Coding::Mh);
        assert_eq!(p.min_row_bits, 0);
        assert!(!p.ecm);
        Ok(EncodedPage {
            data: self.0[page].clone(),
            row_data: Vec::new(),
        })
    }
}

fn duration_call(kinds: &[TestPageKind]) -> (t30::engine::Outcome, t30::engine::Outcome, usize) {
    let opts = TestPageOptions::default();
    let pages = kinds
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            make_test_page(k, i as u32, &opts)
                .expect("page")
                .coded
                .expect("coded")
        })
        .collect();
    // The tester sends MH at V.27ter 4800, the rate the pages are timed at.
    let mut a = Config::new(Role::Caller);
    a.modems = vec![Modem::V27ter];
    a.max_rate = 4800;
    a.ecm = false;
    a.codings = vec![t30::engine::Coding::Mh];
    let b = Config::new(Role::Answerer);
    let (sink_a, _) = DecodingSink::new();
    let (sink_b, kept) = DecodingSink::new();
    let ea = Engine::new(a, vec![Box::new(CodedDoc(pages))], Some(Box::new(sink_a))).unwrap();
    let eb = Engine::new(b, vec![], Some(Box::new(sink_b))).unwrap();
    let r = Pair::new(ea, eb).run(SampleTime::from_ms(10 * 60 * 1000));
    let n = kept.lock().unwrap().len();
    (r.a, r.b, n)
}

#[test]
fn mrgn03_line_of_4_9_s_is_accepted() {
    let (a, b, kept) = duration_call(&[TestPageKind::Duration49]);
    assert_eq!(a.completion, Completion::Ok);
    assert_eq!(b.completion, Completion::Ok);
    assert_eq!((b.modem, b.rate), (Some(Modem::V27ter), Some(4800)));
    assert_eq!(kept, 1);
    assert!(frame_names(&b, Direction::Tx).contains(&"MCF".to_string()));
}

#[test]
fn mrgn03_line_of_5_1_s_is_rejected_with_retrydcn() {
    // DURATION_1 then DURATION_2: the first is confirmed, the second's 5.1 s line makes the
    // receiver drop the page and disconnect in answer to EOP.
    let (a, b, kept) = duration_call(&[TestPageKind::Duration49, TestPageKind::Duration51]);
    assert_eq!(b.completion, Completion::Retrydcn);
    assert_eq!(b.completion.text(), "Disconnected after permitted retries");
    assert_eq!(a.completion, Completion::TxBadpg);
    assert_eq!(
        a.completion.text(),
        "Received a DCN from remote after sending a page"
    );
    assert_eq!(kept, 1);
    assert_eq!(b.pages_received, 1);
    assert_eq!(a.pages_sent, 1);
    let tx_b = frame_names(&b, Direction::Tx);
    assert_eq!(&tx_b[tx_b.len() - 2..], ["MCF", "DCN"]);
}

// ---------------------------------------------------------------- MRGX10 / MTGX18

fn garbage_then_unknown_before_dcs(report: bool) -> Run {
    let mut s = simple(1, 12);
    s.a.ecm = false;
    s.b.report_unknown_frames = report;
    s.a.faults.frames = vec![
        // Not an HDLC frame at all (bad address), then FF C0 00 in TSB-85's bit order.
        FrameRule {
            fcf: Fcf::DCS,
            occurrence: 1,
            fault: FrameFault::InsertBefore(vec![0x5A, 0xA5, 0x3C]),
        },
        FrameRule {
            fcf: Fcf::DCS,
            occurrence: 1,
            fault: FrameFault::InsertBefore(vec![0xFF, 0x03, 0x00]),
        },
    ];
    let r = s.run();
    let names = frame_names(&r.result.b, Direction::Rx);
    assert!(names.contains(&"garbage".to_string()), "{names:?}");
    assert!(names.contains(&"FCF 0x00".to_string()), "{names:?}");
    // The call completes either way.
    assert_eq!(r.result.a.completion, Completion::Ok);
    assert_eq!(r.result.b.pages_received, 1);
    r
}

#[test]
fn mrgx10_unknown_non_final_frame_is_reported_when_asked() {
    let r = garbage_then_unknown_before_dcs(true);
    assert_eq!(r.result.b.completion, Completion::Unexpected);
    assert_eq!(r.result.b.completion.text(), "Unexpected message received");
}

#[test]
fn mrgx10_unknown_non_final_frame_is_ignored_by_default() {
    let r = garbage_then_unknown_before_dcs(false);
    assert_eq!(r.result.b.completion, Completion::Ok);
}

#[test]
fn mtgx18_unknown_non_final_frame_before_dis_is_reported_when_asked() {
    // The transmitter's side of the same check: garbage and FF C0 00 before DIS.
    let mut s = simple(1, 12);
    s.a.report_unknown_frames = true;
    s.b.faults.frames = vec![
        FrameRule {
            fcf: Fcf::DIS,
            occurrence: 1,
            fault: FrameFault::InsertBefore(vec![0x5A, 0xA5, 0x3C]),
        },
        FrameRule {
            fcf: Fcf::DIS,
            occurrence: 1,
            fault: FrameFault::InsertBefore(vec![0xFF, 0x03, 0x00]),
        },
    ];
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Unexpected);
    assert_eq!(r.result.a.completion.text(), "Unexpected message received");
    assert_eq!(r.result.b.completion, Completion::Ok);
    assert_eq!(r.result.a.pages_sent, 1);
    assert_eq!(r.result.b.pages_received, 1);
}
