//! Must-show 2: one test per completion code the engine can reach, asserting the code and
//! its exact string on the side that must report it, and what the other side reports.
//! `a` is the caller, `b` the answerer; unless a test says otherwise `a` sends one or two
//! standard pages to `b`. Provoked here: 1–40, 42 (a document-layer code passed through) and
//! 48–61; 0 is every successful call elsewhere; 41 and 43–47 come only from the document
//! layer.

mod engine_pair;
use engine_pair::*;
use t30::completion::Completion;
use t30::engine::{Accept, Direction, DisRepeat, FrameFault, FrameRule, Operator, Resolution};
use t30::frame::dis::modem_name::Modem;
use t30::frame::{Fcf, PageWidth};

fn rule(fcf: Fcf, occurrence: u32, fault: FrameFault) -> FrameRule {
    FrameRule {
        fcf,
        occurrence,
        fault,
    }
}

fn non_ecm(pages: usize) -> Setup {
    let mut s = simple(pages, 12);
    s.a.ecm = false;
    s
}

fn ecm(pages: usize) -> Setup {
    simple(pages, 12)
}

fn poll() -> Setup {
    let mut s = simple(0, 0);
    s.a.poll = true;
    s.docs_a = vec![];
    s.docs_b = vec![vec![TestPage::new(
        3,
        12,
        Resolution::Standard,
        PageWidth::A4,
    )]];
    s
}

/// Runs `s` and checks both sides: the code and its exact string.
fn expect(s: Setup, a: (Completion, &str), b: (Completion, &str)) -> Run {
    let r = s.run();
    let oa = &r.result.a;
    let ob = &r.result.b;
    let names = |o: &t30::engine::Outcome| {
        o.frames
            .iter()
            .map(|f| format!("{:?}:{}{}", f.dir, f.name, if f.fcs_ok { "" } else { "!" }))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(oa.completion, a.0, "caller: {}", names(oa));
    assert_eq!(oa.completion.text(), a.1);
    assert_eq!(ob.completion, b.0, "answerer: {}", names(ob));
    assert_eq!(ob.completion.text(), b.1);
    r
}

const DCNWHY: (Completion, &str) = (
    Completion::RxDcnwhy,
    "Unexpected DCN while waiting for DCS or DIS",
);
const DROPPED: (Completion, &str) = (Completion::Calldropped, "The call dropped prematurely");
const OK: (Completion, &str) = (Completion::Ok, "OK");
const BADPG: (Completion, &str) = (
    Completion::TxBadpg,
    "Received a DCN from remote after sending a page",
);
const NOPOLL: (Completion, &str) = (Completion::Nopoll, "Poll not accepted");
const BADDCS: (Completion, &str) = (
    Completion::TxBaddcs,
    "Received bad response to DCS or training",
);

#[test]
fn code_01_cedtone() {
    let mut s = non_ecm(1);
    s.b.ced_ms = 6000;
    expect(
        s,
        (Completion::Cedtone, "The CED tone exceeded 5s"),
        DROPPED,
    );
}

#[test]
fn code_02_t0_expired() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![
        rule(Fcf::DIS, 0, FrameFault::Drop),
        rule(Fcf::CSI, 0, FrameFault::Drop),
    ];
    s.b.timers.t1 = 100_000;
    let r = expect(
        s,
        (
            Completion::T0Expired,
            "Timed out waiting for initial communication",
        ),
        DCNWHY,
    );
    assert!(r.result.a.end_time.as_ms() >= 60_000);
}

#[test]
fn code_03_t1_expired() {
    let mut s = non_ecm(1);
    s.a.faults.silence_after_rx = Some((Fcf::DIS, 1));
    let r = expect(
        s,
        DROPPED,
        (
            Completion::T1Expired,
            "Timed out waiting for the first message",
        ),
    );
    let dis = r.result.b.frames.iter().filter(|f| f.name == "DIS").count();
    assert!(dis >= 6, "DIS repeated until T1: {dis}");
}

#[test]
fn code_05_hdlc_carrier() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(Fcf::DIS, 1, FrameFault::HoldCarrier(15_000))];
    expect(
        s,
        (
            Completion::HdlcCarrier,
            "The HDLC carrier did not stop in a timely manner",
        ),
        DROPPED,
    );
}

#[test]
fn code_06_cannot_train() {
    let mut s = non_ecm(1);
    s.b.faults.force_response = vec![(Fcf::FTT, 20)];
    let r = expect(
        s,
        (
            Completion::CannotTrain,
            "Failed to train with any of the compatible modems",
        ),
        DCNWHY,
    );
    // Every rate of the fallback order was tried, in order.
    let tried: Vec<(Modem, u32)> = r
        .result
        .a
        .trainings
        .iter()
        .map(|t| (t.modem, t.rate))
        .collect();
    assert_eq!(tried, t30::engine::FALLBACK.to_vec());
}

#[test]
fn code_08_incompatible() {
    let mut s = non_ecm(1);
    s.a.modems = vec![Modem::V17];
    s.b.modems = vec![Modem::V27ter];
    expect(
        s,
        (Completion::Incompatible, "Far end is not compatible"),
        DCNWHY,
    );
}

#[test]
fn code_08_incompatible_dcs_with_a_reserved_rate() {
    // Supplementary "Invalid-signalling-rate": a DCS whose rate code is reserved -> DCN.
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![rule(
        Fcf::DCS,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0x83, 0x00, 0x12, 0x00]),
    )];
    expect(
        s,
        BADDCS,
        (Completion::Incompatible, "Far end is not compatible"),
    );
}

#[test]
fn code_09_rx_incapable() {
    let mut s = non_ecm(1);
    s.b.receive = false;
    expect(
        s,
        (Completion::RxIncapable, "Far end is not able to receive"),
        DCNWHY,
    );
}

#[test]
fn code_10_tx_incapable() {
    let mut s = poll();
    s.docs_b = vec![];
    expect(
        s,
        (Completion::TxIncapable, "Far end is not able to transmit"),
        DCNWHY,
    );
}

#[test]
fn code_11_noressupport() {
    let mut s = non_ecm(1);
    s.docs_a = vec![vec![TestPage::new(
        1,
        8,
        Resolution::Superfine,
        PageWidth::A4,
    )]];
    s.a.reduce_resolution = false;
    s.b.resolutions = vec![Resolution::Standard];
    expect(
        s,
        (
            Completion::Noressupport,
            "Far end cannot receive at the resolution of the image",
        ),
        DCNWHY,
    );
}

#[test]
fn code_12_nosizesupport() {
    let mut s = non_ecm(1);
    s.docs_a = vec![vec![TestPage::new(
        1,
        8,
        Resolution::Standard,
        PageWidth::A3,
    )]];
    expect(
        s,
        (
            Completion::Nosizesupport,
            "Far end cannot receive at the size of image",
        ),
        DCNWHY,
    );
}

#[test]
fn code_13_unexpected() {
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![rule(
        Fcf::DCS,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0x00]),
    )];
    expect(
        s,
        BADDCS,
        (Completion::Unexpected, "Unexpected message received"),
    );
}

#[test]
fn code_14_tx_baddcs() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(
        Fcf::CFR,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0xFA]),
    )];
    expect(s, BADDCS, DROPPED);
}

#[test]
fn code_15_tx_badpg() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(
        Fcf::MCF,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0xFA]),
    )];
    let r = expect(s, BADPG, OK);
    assert_eq!(r.result.b.pages_received, 1);
}

#[test]
fn code_16_tx_ecmphd() {
    let mut s = ecm(1);
    s.b.faults.frames = vec![rule(
        Fcf::MCF,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0x84]),
    )];
    expect(
        s,
        (
            Completion::TxEcmphd,
            "Invalid ECM response received from receiver",
        ),
        OK,
    );
}

#[test]
fn code_17_tx_gotdcn() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(
        Fcf::DIS,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0xFA]),
    )];
    expect(
        s,
        (
            Completion::TxGotdcn,
            "Received a DCN while waiting for a DIS",
        ),
        DROPPED,
    );
}

#[test]
fn code_18_tx_invalrsp() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(
        Fcf::MCF,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0x84]),
    )];
    expect(
        s,
        (
            Completion::TxInvalrsp,
            "Invalid response after sending a page",
        ),
        OK,
    );
}

#[test]
fn code_19_tx_nodis() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(
        Fcf::DIS,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0x00]),
    )];
    expect(
        s,
        (
            Completion::TxNodis,
            "Received other than DIS while waiting for DIS",
        ),
        DCNWHY,
    );
}

#[test]
fn code_20_tx_phbdead() {
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(Fcf::CFR, 0, FrameFault::Drop)];
    let r = expect(
        s,
        (Completion::TxPhbdead, "Received no response to DCS or TCF"),
        (
            Completion::RxDcndata,
            "Unexpected DCN while waiting for image data",
        ),
    );
    assert_eq!(
        r.result.a.frames.iter().filter(|f| f.name == "DCS").count(),
        3
    );
}

#[test]
fn code_21_tx_phddead() {
    let mut s = non_ecm(2);
    s.b.faults.frames = vec![rule(Fcf::MCF, 0, FrameFault::Drop)];
    let r = expect(
        s,
        (Completion::TxPhddead, "No response after sending a page"),
        (
            Completion::RxDcnphd,
            "Unexpected DCN after EOM or MPS sequence",
        ),
    );
    assert_eq!(
        r.result.a.frames.iter().filter(|f| f.name == "MPS").count(),
        3
    );
}

#[test]
fn code_22_tx_t5exp() {
    let mut s = ecm(1);
    s.b.faults.force_response = vec![(Fcf::RNR, 1000)];
    let r = expect(
        s,
        (
            Completion::TxT5exp,
            "Timed out waiting for receiver ready (ECM mode)",
        ),
        (Completion::RxDcnrrd, "Unexpected DCN after RR/RNR sequence"),
    );
    assert!(r.result.a.frames.iter().filter(|f| f.name == "RR").count() > 10);
}

#[test]
fn code_23_rx_ecmphd() {
    let mut s = ecm(1);
    s.a.faults.frames = vec![rule(
        Fcf::PPS,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0xBF, 0x2F]),
    )];
    expect(
        s,
        BADPG,
        (
            Completion::RxEcmphd,
            "Invalid ECM response received from transmitter",
        ),
    );
}

#[test]
fn code_24_rx_gotdcs() {
    let mut s = non_ecm(1);
    s.b.receive = false;
    // The answerer's DIS claims it can receive although it is configured not to.
    s.b.faults.frames = vec![rule(
        Fcf::DIS,
        1,
        FrameFault::Replace(vec![
            0xFF, 0x13, 0x80, 0x00, 0xEE, 0xF8, 0xC4, 0x84, 0xC1, 0x03,
        ]),
    )];
    expect(
        s,
        BADDCS,
        (Completion::RxGotdcs, "DCS received while waiting for DTC"),
    );
}

#[test]
fn code_25_rx_invalcmd() {
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![rule(
        Fcf::EOP,
        1,
        FrameFault::Replace(vec![0xFF, 0x13, 0x00]),
    )];
    expect(
        s,
        BADPG,
        (
            Completion::RxInvalcmd,
            "Unexpected command after page received",
        ),
    );
}

fn cut_then_silent(pct: u32) -> Setup {
    let mut s = non_ecm(1);
    s.a.faults.cut_page = vec![(1, pct)];
    s.a.faults.frames = vec![
        rule(Fcf::EOP, 1, FrameFault::Drop),
        rule(Fcf::EOP, 1, FrameFault::SilenceAfter),
    ];
    s
}

#[test]
fn code_26_rx_nocarrier() {
    expect(
        cut_then_silent(60),
        DROPPED,
        (Completion::RxNocarrier, "Carrier lost during fax receive"),
    );
}

#[test]
fn code_27_rx_noeol() {
    expect(
        cut_then_silent(1),
        DROPPED,
        (
            Completion::RxNoeol,
            "Timed out while waiting for EOL (end Of line)",
        ),
    );
}

#[test]
fn code_28_rx_nofax() {
    expect(
        cut_then_silent(0),
        DROPPED,
        (
            Completion::RxNofax,
            "Timed out while waiting for first line",
        ),
    );
}

#[test]
fn code_29_rx_t2expdcn() {
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![rule(Fcf::DCN, 1, FrameFault::Drop)];
    s.a.faults.no_hang_up = true;
    let r = expect(
        s,
        OK,
        (
            Completion::RxT2expdcn,
            "Timer T2 expired while waiting for DCN",
        ),
    );
    assert_eq!(r.result.b.pages_received, 1);
}

#[test]
fn code_30_rx_t2expd() {
    expect(
        cut_then_silent(100),
        DROPPED,
        (
            Completion::RxT2expd,
            "Timer T2 expired while waiting for phase D",
        ),
    );
}

#[test]
fn code_31_rx_t2expfax() {
    let mut s = non_ecm(1);
    s.a.faults.silence_after_rx = Some((Fcf::CFR, 1));
    expect(
        s,
        DROPPED,
        (
            Completion::RxT2expfax,
            "Timer T2 expired while waiting for fax page",
        ),
    );
}

#[test]
fn code_32_rx_t2expmps() {
    let mut s = non_ecm(2);
    s.a.faults.silence_after_rx = Some((Fcf::MCF, 1));
    expect(
        s,
        DROPPED,
        (
            Completion::RxT2expmps,
            "Timer T2 expired while waiting for next fax page",
        ),
    );
}

#[test]
fn code_33_rx_t2exprr() {
    let mut s = ecm(1);
    s.b.faults.force_response = vec![(Fcf::RNR, 1)];
    s.a.faults.silence_after_rx = Some((Fcf::RNR, 1));
    expect(
        s,
        DROPPED,
        (
            Completion::RxT2exprr,
            "Timer T2 expired while waiting for RR command",
        ),
    );
}

#[test]
fn code_34_rx_t2exp() {
    let mut s = non_ecm(1);
    s.b.faults.force_response = vec![(Fcf::FTT, 1)];
    s.a.faults.silence_after_rx = Some((Fcf::FTT, 1));
    expect(
        s,
        DROPPED,
        (
            Completion::RxT2exp,
            "Timer T2 expired while waiting for NSS, DCS or MCF",
        ),
    );
}

#[test]
fn code_35_rx_dcnwhy() {
    // TSB-85 MRGX02: DCN in response to DIS.
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![
        rule(Fcf::TSI, 1, FrameFault::Drop),
        rule(Fcf::DCS, 1, FrameFault::Replace(vec![0xFF, 0x13, 0xFB])),
        rule(Fcf::DCS, 1, FrameFault::HangUpAfter),
    ];
    expect(s, DROPPED, DCNWHY);
}

#[test]
fn code_36_rx_dcndata() {
    // The answerer's CFR never arrives: it waits for image data, the caller gives up with
    // DCN after three DCS.
    let mut s = non_ecm(1);
    s.b.faults.frames = vec![rule(Fcf::CFR, 0, FrameFault::Drop)];
    expect(
        s,
        (Completion::TxPhbdead, "Received no response to DCS or TCF"),
        (
            Completion::RxDcndata,
            "Unexpected DCN while waiting for image data",
        ),
    );
}

#[test]
fn code_37_rx_dcnfax() {
    let mut s = non_ecm(1);
    s.a.faults.frames = vec![
        rule(Fcf::EOP, 1, FrameFault::Replace(vec![0xFF, 0x13, 0xFB])),
        rule(Fcf::EOP, 1, FrameFault::HangUpAfter),
    ];
    expect(
        s,
        DROPPED,
        (
            Completion::RxDcnfax,
            "Unexpected DCN while waiting for EOM, EOP or MPS",
        ),
    );
}

#[test]
fn code_38_rx_dcnphd() {
    // TSB-85 MTGX05: DCN after MPS.
    let mut s = non_ecm(2);
    s.b.faults.frames = vec![
        rule(Fcf::MCF, 1, FrameFault::Replace(vec![0xFF, 0x13, 0xFA])),
        rule(Fcf::MCF, 1, FrameFault::HangUpAfter),
    ];
    expect(
        s,
        (
            Completion::RxDcnphd,
            "Unexpected DCN after EOM or MPS sequence",
        ),
        DROPPED,
    );
}

#[test]
fn code_39_rx_dcnrrd() {
    let mut s = ecm(1);
    s.b.faults.force_response = vec![(Fcf::RNR, 1000)];
    s.a.timers.t5 = 10_000;
    expect(
        s,
        (
            Completion::TxT5exp,
            "Timed out waiting for receiver ready (ECM mode)",
        ),
        (Completion::RxDcnrrd, "Unexpected DCN after RR/RNR sequence"),
    );
}

#[test]
fn code_40_rx_dcnnortn() {
    // TSB-85 MRGN04 / MTGN28: a page answered RTN after EOP; the sender ends with DCN.
    let mut s = non_ecm(1);
    s.a.faults.corrupt_rows = vec![(1, vec![0, 1, 2])];
    let r = expect(
        s,
        OK,
        (
            Completion::RxDcnnortn,
            "Unexpected DCN after requested retransmission",
        ),
    );
    assert_eq!(
        r.result.b.frames.iter().filter(|f| f.name == "RTN").count(),
        1
    );
    assert_eq!(r.result.b.pages_received, 0);
}

#[test]
fn code_42_document_layer_code_passes_through() {
    // Codes 41-47 belong to the document layer; the engine reports what the source says.
    let mut s = non_ecm(1);
    s.a.ecm = false;
    let r = {
        use t30::engine::{DocumentSource, EncodedPage, Engine, PageInfo, PageParams};
        struct Missing;
        impl DocumentSource for Missing {
            fn pages(&self) -> usize {
                1
            }
            fn page_info(&self, _: usize) -> PageInfo {
                PageInfo {
                    resolution: Resolution::Standard,
                    width: PageWidth::A4,
                }
            }
            fn encode_page(&mut self, _: usize, _: &PageParams) -> Result<EncodedPage, Completion> {
                Err(Completion::Nopage)
            }
        }
        let (sa, _) = TestSink::new();
        let (sb, _) = TestSink::new();
        let a = Engine::new(s.a, vec![Box::new(Missing)], Some(Box::new(sa))).unwrap();
        let b = Engine::new(s.b, vec![], Some(Box::new(sb))).unwrap();
        Pair::new(a, b).run(t30::time::SampleTime::from_ms(600_000))
    };
    assert_eq!(r.a.completion.text(), "TIFF/F page not found");
    assert_eq!(r.b.completion, Completion::RxDcndata);
}

#[test]
fn code_48_retrydcn() {
    // TSB-85 MRGX01 with the "3 DIS then DCN" behaviour.
    let mut s = non_ecm(1);
    s.b.dis_repeat = DisRepeat::ThenDcn;
    s.a.faults.silence_after_rx = Some((Fcf::DIS, 1));
    let r = expect(
        s,
        DROPPED,
        (Completion::Retrydcn, "Disconnected after permitted retries"),
    );
    assert_eq!(
        r.result
            .b
            .frames
            .iter()
            .filter(|f| f.name == "DIS" && f.dir == t30::engine::Direction::Tx)
            .count(),
        3
    );
}

#[test]
fn code_48_retrydcn_after_rtn() {
    let mut s = non_ecm(2);
    s.b.faults.force_response = vec![(Fcf::RTN, 100)];
    expect(
        s,
        (Completion::Retrydcn, "Disconnected after permitted retries"),
        (
            Completion::RxDcnnortn,
            "Unexpected DCN after requested retransmission",
        ),
    );
}

#[test]
fn code_49_calldropped() {
    let mut s = non_ecm(1);
    s.a.faults.hang_up_after_rx = Some((Fcf::CFR, 1));
    expect(s, DROPPED, DROPPED);
}

#[test]
fn code_50_nopoll() {
    let mut s = poll();
    s.b.allow_polled = true;
    s.b.faults.frames = vec![];
    s.b.accept = vec![(Fcf::PWD, Accept::OneOf(vec!["4321".into()]))];
    s.a.send = vec![(Fcf::PWD, "1234".into())];
    expect(
        s,
        NOPOLL,
        (Completion::PwdUnacceptable, "Password not accepted"),
    );
}

fn rejected(f: Fcf, polling: bool, text: &str, code: Completion) {
    let mut s = if polling { poll() } else { non_ecm(1) };
    s.a.send = vec![(f, "12345".into())];
    s.b.accept = vec![(f, Accept::OneOf(vec!["999".into()]))];
    let other = if polling { NOPOLL } else { BADDCS };
    expect(s, other, (code, text));
}

#[test]
fn code_51_ident_unacceptable() {
    let mut s = non_ecm(1);
    s.b.accept = vec![(Fcf::TSI, Accept::OneOf(vec!["+1 555 0000".into()]))];
    expect(
        s,
        BADDCS,
        (Completion::IdentUnacceptable, "Ident not accepted"),
    );
}

#[test]
fn code_52_sub_unacceptable() {
    rejected(
        Fcf::SUB,
        false,
        "Sub-address not accepted",
        Completion::SubUnacceptable,
    );
}

#[test]
fn code_53_sep_unacceptable() {
    rejected(
        Fcf::SEP,
        true,
        "Selective polling address not accepted",
        Completion::SepUnacceptable,
    );
}

#[test]
fn code_54_psa_unacceptable() {
    rejected(
        Fcf::PSA,
        true,
        "Polled sub-address not accepted",
        Completion::PsaUnacceptable,
    );
}

#[test]
fn code_55_sid_unacceptable() {
    rejected(
        Fcf::SID,
        false,
        "Sender identification not accepted",
        Completion::SidUnacceptable,
    );
}

#[test]
fn code_56_pwd_unacceptable() {
    // TSB-85 MRGP04: polled without the password.
    let mut s = poll();
    s.b.accept = vec![(Fcf::PWD, Accept::OneOf(vec!["4321".into()]))];
    expect(
        s,
        NOPOLL,
        (Completion::PwdUnacceptable, "Password not accepted"),
    );
    rejected(
        Fcf::PWD,
        false,
        "Password not accepted",
        Completion::PwdUnacceptable,
    );
}

#[test]
fn code_57_tsa_unacceptable() {
    rejected(
        Fcf::TSA,
        false,
        "Transmitting subscriber internet address not accepted",
        Completion::TsaUnacceptable,
    );
}

#[test]
fn code_58_ira_unacceptable() {
    rejected(
        Fcf::IRA,
        false,
        "Internet routing address not accepted",
        Completion::IraUnacceptable,
    );
}

#[test]
fn code_59_cia_unacceptable() {
    rejected(
        Fcf::CIA,
        true,
        "Calling subscriber internet address not accepted",
        Completion::CiaUnacceptable,
    );
}

#[test]
fn code_60_isp_unacceptable() {
    rejected(
        Fcf::ISP,
        true,
        "Internet selective polling address not accepted",
        Completion::IspUnacceptable,
    );
}

#[test]
fn code_61_csa_unacceptable() {
    let mut s = non_ecm(1);
    s.b.send = vec![(Fcf::CSA, "fax@example.org".into())];
    s.a.accept = vec![(Fcf::CSA, Accept::Reject)];
    expect(
        s,
        (
            Completion::CsaUnacceptable,
            "Called subscriber internet address not accepted",
        ),
        DCNWHY,
    );
}

#[test]
fn password_accepted_when_right() {
    // TSB-85 MRGP02: the poller sends the right password; the page arrives.
    let mut s = poll();
    s.b.accept = vec![(Fcf::PWD, Accept::OneOf(vec!["4321".into()]))];
    s.a.send = vec![(Fcf::PWD, "4321".into())];
    let r = expect(s, OK, OK);
    assert_eq!(r.result.a.pages_received, 1);
}

/// `a` asks for a procedure interrupt after page 1 of 2 (PRI-MPS); `b`'s operator is there
/// and accepts, so `b` answers PIP and waits for the voice contact.
fn interrupt_accepted_by_b() -> Setup {
    let mut s = non_ecm(2);
    s.a.operator.interrupt_after_page = Some(1);
    s.b.operator = Operator {
        interrupt_after_page: None,
        answers_after_ms: Some(0),
        accept: true,
    };
    s
}

#[test]
fn code_04_t3_expired() {
    // Nobody comes to `a`'s terminal within T3: `a` gives up with DCN.
    let s = interrupt_accepted_by_b();
    let r = expect(
        s,
        (
            Completion::T3Expired,
            "Timed out waiting for procedural interrupt",
        ),
        (Completion::OperIntFail, "Operator intervention failed"),
    );
    let a = &r.result.a;
    assert_eq!(
        frame_names(a, Direction::Tx)
            .iter()
            .filter(|n| n.starts_with("PRI-"))
            .collect::<Vec<_>>(),
        ["PRI-MPS"]
    );
    let pip = a
        .frames
        .iter()
        .find(|f| f.dir == Direction::Rx && f.name == "PIP")
        .expect("PIP received")
        .time;
    let dcn = a
        .frames
        .iter()
        .find(|f| f.dir == Direction::Tx && f.name == "DCN")
        .expect("DCN sent")
        .time;
    // T3 ran in full (10 s, within T.30's 10-15 s) between PIP and the DCN.
    let t3 = (dcn - pip).as_ms();
    assert!((10_000..=15_000).contains(&t3), "T3 {t3} ms");
    // The page answered with PIP counts on both sides; the second was never sent.
    assert_eq!(a.pages_sent, 1);
    assert_eq!(r.result.b.pages_received, 1);
}

#[test]
fn code_07_oper_int_fail() {
    // `b`'s operator asks for the interrupt (PIP in answer to MPS); `a`'s operator comes
    // after 4 s but declines the voice contact: `a` sends DCN.
    let mut s = non_ecm(2);
    s.b.operator.interrupt_after_page = Some(1);
    s.a.operator = Operator {
        interrupt_after_page: None,
        answers_after_ms: Some(4000),
        accept: false,
    };
    let r = expect(
        s,
        (Completion::OperIntFail, "Operator intervention failed"),
        (Completion::OperIntFail, "Operator intervention failed"),
    );
    let a = &r.result.a;
    assert!(frame_names(a, Direction::Tx).contains(&"MPS".to_string()));
    assert!(
        !frame_names(a, Direction::Tx)
            .iter()
            .any(|n| n.starts_with("PRI-"))
    );
    assert!(frame_names(a, Direction::Rx).contains(&"PIP".to_string()));
    assert_eq!(a.pages_sent, 1);
}
