//! Fault injection and recovery: the TSB-85 style procedures where the call must still
//! succeed (or end as the procedure says) when frames are lost, corrupted or repeated.

mod engine_pair;
use engine_pair::*;
use t30::completion::Completion;
use t30::engine::{Direction, FrameFault, FrameRule, Outcome, TcfFault};
use t30::frame::Fcf;

fn rule(fcf: Fcf, occurrence: u32, fault: FrameFault) -> FrameRule {
    FrameRule {
        fcf,
        occurrence,
        fault,
    }
}

fn count(o: &Outcome, dir: Direction, name: &str) -> usize {
    o.frames
        .iter()
        .filter(|f| f.dir == dir && f.name == name)
        .count()
}

fn non_ecm(pages: usize) -> Setup {
    let mut s = simple(pages, 20);
    s.a.ecm = false;
    s
}

fn ok_and_exact(s: Setup) -> Run {
    let doc = s.docs_a[0].clone();
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Ok, "caller");
    assert_eq!(r.result.b.completion, Completion::Ok, "answerer");
    let got = r.rx_b.lock().unwrap();
    assert_eq!(got.len(), doc.len());
    for (g, d) in got.iter().zip(doc.iter()) {
        assert_eq!(g.rows, d.rows);
    }
    drop(got);
    r
}

#[test]
fn bad_fcs_dis_is_ignored() {
    // MTGN10: two DIS with bad FCS, the third is good.
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![
        rule(Fcf::DIS, 1, FrameFault::CorruptFcs),
        rule(Fcf::DIS, 2, FrameFault::CorruptFcs),
    ];
    let r = ok_and_exact(s);
    let bad = r
        .result
        .a
        .frames
        .iter()
        .filter(|f| f.name == "DIS" && !f.fcs_ok)
        .count();
    assert_eq!(bad, 2);
}

#[test]
fn bad_fcs_dcs_makes_the_answerer_repeat_dis() {
    // MRGN11.
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![
        rule(Fcf::DCS, 1, FrameFault::CorruptFcs),
        rule(Fcf::DCS, 2, FrameFault::CorruptFcs),
    ];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.b, Direction::Tx, "DIS"), 3);
}

#[test]
fn crp_to_dis_makes_the_answerer_repeat_dis() {
    // MRGN12.
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![
        rule(Fcf::DCS, 1, FrameFault::Replace(vec![0xFF, 0x13, 0x1B])),
        rule(Fcf::DCS, 2, FrameFault::Replace(vec![0xFF, 0x13, 0x1B])),
    ];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.b, Direction::Tx, "DIS"), 3);
}

#[test]
fn missing_tcf_gets_ftt_and_falls_back() {
    // MRGN13 / OTGC07: no TCF twice, FTT each time, then CFR at the third rate.
    let mut s = non_ecm(1);
    s.a.faults.tcf = vec![TcfFault::Missing, TcfFault::Missing];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.b, Direction::Tx, "FTT"), 2);
    assert_eq!(r.result.a.rate, Some(9600));
    let t: Vec<(u32, bool)> = r
        .result
        .a
        .trainings
        .iter()
        .map(|t| (t.rate, t.ok))
        .collect();
    assert_eq!(t, vec![(14400, false), (12000, false), (9600, true)]);
}

#[test]
fn tcf_with_a_bad_pattern_gets_ftt() {
    // MRGN07.
    let mut s = non_ecm(1);
    s.a.faults.tcf = vec![TcfFault::Pattern(0x55)];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.b, Direction::Tx, "FTT"), 1);
}

#[test]
fn tcf_at_the_wrong_rate_gets_ftt() {
    // MRGN08.
    let mut s = non_ecm(1);
    s.a.faults.tcf = vec![TcfFault::WrongRate, TcfFault::Short(300)];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.b, Direction::Tx, "FTT"), 2);
    assert_eq!(r.result.b.trainings.iter().filter(|t| t.ok).count(), 1);
}

#[test]
fn lost_mcf_to_mps_is_sent_again() {
    // MRGN16: responses lost at the sender; the receiver answers each repeat.
    let mut s = non_ecm(2);
    s.b.faults.frames = vec![
        rule(Fcf::MCF, 1, FrameFault::Drop),
        rule(Fcf::MCF, 2, FrameFault::Drop),
    ];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.a, Direction::Tx, "MPS"), 3);
    assert_eq!(r.result.b.pages_received, 2);
}

#[test]
fn bad_fcs_post_page_commands_get_no_answer() {
    // MRGN17: the receiver stays silent until a good MPS.
    let mut s = non_ecm(2);
    s.a.faults.frames = vec![
        rule(Fcf::MPS, 1, FrameFault::CorruptFcs),
        rule(Fcf::MPS, 2, FrameFault::CorruptFcs),
    ];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.b, Direction::Tx, "MCF"), 2);
    assert_eq!(count(&r.result.a, Direction::Tx, "MPS"), 3);
}

#[test]
fn crp_makes_the_sender_repeat() {
    // MTGN13 / MTGN16: CRP to DCS and to MPS.
    let mut s = non_ecm(2);
    s.b.faults.force_response = vec![(Fcf::CRP, 2)];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.b, Direction::Tx, "CRP"), 2);
    assert_eq!(count(&r.result.a, Direction::Tx, "DCS"), 3);
}

#[test]
fn rtp_after_mps_retrains_lower_for_the_next_page() {
    // MTGN24.
    let mut s = non_ecm(2);
    s.b.faults.force_response = vec![(Fcf::RTP, 1)];
    let r = ok_and_exact(s);
    assert_eq!(r.result.a.rate, Some(12000));
    assert_eq!(count(&r.result.a, Direction::Tx, "DCS"), 2);
}

#[test]
fn rtn_after_mps_retrains_lower_and_resends_the_page() {
    // MTGN27.
    let mut s = non_ecm(2);
    s.b.faults.force_response = vec![(Fcf::RTN, 1)];
    let r = ok_and_exact(s);
    assert_eq!(r.result.a.rate, Some(12000));
    assert_eq!(r.result.a.pages_sent, 2);
}

#[test]
fn page_quality_decides_mcf_rtp_rtn() {
    // 2 of 20 rows bad: 10 % -> RTP, page kept with its bad rows.
    let mut s = non_ecm(1);
    s.a.faults.corrupt_rows = vec![(1, vec![3, 4])];
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Ok);
    assert_eq!(count(&r.result.b, Direction::Tx, "RTP"), 1);
    assert_eq!(r.result.b.bad_rows, 2);
    // 1 of 40 rows: 2.5 % -> MCF.
    let mut s = simple(1, 40);
    s.a.ecm = false;
    s.a.faults.corrupt_rows = vec![(1, vec![7])];
    let r = s.run();
    assert_eq!(count(&r.result.b, Direction::Tx, "MCF"), 1);
    assert_eq!(r.rx_b.lock().unwrap()[0].quality.bad_rows, 1);
}

#[test]
fn ppr_lists_exactly_the_bad_frames_and_they_are_resent() {
    // OTEN02 / OREN02.
    let mut s = simple(1, 60);
    s.a.ecm_frame_size = t30::engine::EcmFrameSize::Octets64;
    s.a.faults.corrupt_ecm_frames = vec![(1, vec![0, 9, 17], 1)];
    let r = ok_and_exact(s);
    let ppr = r
        .result
        .b
        .frames
        .iter()
        .find(|f| f.name == "PPR")
        .expect("PPR");
    // Bits 0, 9 and 17 of the 256-bit map, least significant bit first.
    assert!(ppr.hex.starts_with("ff 13 bc 01 02 02 00"), "{}", ppr.hex);
    let tx: Vec<&str> = r
        .result
        .a
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Tx)
        .map(|f| f.name.as_str())
        .collect();
    let after_ppr: Vec<&&str> = tx
        .iter()
        .skip_while(|n| **n != "PPS")
        .skip(1)
        .take_while(|n| **n != "PPS")
        .filter(|n| **n == "FCD")
        .collect();
    assert_eq!(after_ppr.len(), 3);
    assert_eq!(r.result.b.ecm_retries, 1);
}

#[test]
fn four_pprs_then_ctc_at_a_lower_rate() {
    // OREN03 / OTEN05.
    let mut s = simple(1, 30);
    s.a.faults.corrupt_ecm_frames = vec![(1, vec![1], 4)];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.a, Direction::Tx, "CTC"), 1);
    assert_eq!(count(&r.result.b, Direction::Tx, "CTR"), 1);
    assert_eq!(r.result.a.rate, Some(12000));
    assert_eq!(r.result.a.ecm_retries, 4);
}

#[test]
fn persistent_bad_frame_ends_with_eor_err() {
    // OTEN04 [RETRYDCN] on the sender; OREN05 [RX_DCNDATA] on the receiver.
    let mut s = simple(1, 30);
    s.a.faults.corrupt_ecm_frames = vec![(1, vec![1], 100)];
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Retrydcn);
    assert_eq!(r.result.b.completion, Completion::RxDcndata);
    assert_eq!(count(&r.result.a, Direction::Tx, "EOR"), 1);
    assert_eq!(count(&r.result.b, Direction::Tx, "ERR"), 1);
    assert_eq!(count(&r.result.b, Direction::Tx, "PPR"), 8);
    assert_eq!(r.result.b.pages_received, 0);
}

#[test]
fn rnr_rr_flow_control() {
    // OREN08.
    let mut s = simple(2, 30);
    s.b.faults.force_response = vec![(Fcf::RNR, 3)];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.a, Direction::Tx, "RR"), 3);
}

#[test]
fn flags_only_burst_is_ignored() {
    // MTGX19 / MRGX11: 43 flags and no frame.
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![
        rule(Fcf::CSI, 1, FrameFault::Drop),
        rule(Fcf::DIS, 1, FrameFault::FlagsOnly(43)),
    ];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.a, Direction::Rx, "DIS"), 1);
}

#[test]
fn delayed_and_held_frames_still_work() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![
        rule(Fcf::CFR, 1, FrameFault::Delay(2000)),
        rule(Fcf::DIS, 1, FrameFault::HoldCarrier(3000)),
    ];
    ok_and_exact(s);
}

#[test]
fn unknown_non_final_frame_before_dis_is_ignored() {
    // MTGX18.
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(
        Fcf::DIS,
        1,
        FrameFault::InsertBefore(vec![0xFF, 0x03, 0x00]),
    )];
    let r = ok_and_exact(s);
    assert!(r.result.a.frames.iter().any(|f| f.name == "FCF 0x00"));
}

#[test]
fn no_reply_to_dcs_twice_then_cfr() {
    // MTGN11.
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![
        rule(Fcf::CFR, 1, FrameFault::Drop),
        rule(Fcf::CFR, 2, FrameFault::Drop),
    ];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.a, Direction::Tx, "DCS"), 3);
}

#[test]
fn dis_answered_with_dis_makes_the_sender_repeat_dcs() {
    // MTGN09: the answerer's response to DCS is a DIS once.
    let mut s = non_ecm(1);
    let dis = "ff 13 80 00 ee f8 c4 84 c1 03";
    let bytes: Vec<u8> = dis
        .split(' ')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    s.b.faults.frames = vec![rule(Fcf::CFR, 1, FrameFault::Replace(bytes))];
    let r = ok_and_exact(s);
    assert_eq!(count(&r.result.a, Direction::Tx, "DCS"), 2);
}

#[test]
fn dis_answered_with_dis_three_times_is_retrydcn() {
    // MTGX12.
    let mut s = non_ecm(1);
    let bytes = vec![0xFF, 0x13, 0x80, 0x00, 0xEE, 0xF8, 0xC4, 0x84, 0xC1, 0x03];
    s.b.faults.frames = vec![
        rule(Fcf::CFR, 0, FrameFault::Replace(bytes.clone())),
        rule(Fcf::FTT, 0, FrameFault::Replace(bytes)),
    ];
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Retrydcn);
    assert_eq!(
        r.result.a.completion.text(),
        "Disconnected after permitted retries"
    );
}
