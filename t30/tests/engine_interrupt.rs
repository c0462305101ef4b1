//! Procedure interrupts: PRI-EOM/PRI-MPS/PRI-EOP, PIP/PIN, T3 and the operator model.
//! `a` is the caller and sends, `b` the answerer and receives.

mod engine_pair;
use engine_pair::*;
use t30::completion::Completion;
use t30::engine::{Direction, FrameFault, FrameRule, Operator, Outcome};
use t30::frame::Fcf;

const PRESENT: Operator = Operator {
    interrupt_after_page: None,
    answers_after_ms: Some(0),
    accept: true,
};

fn setup(pages: usize, ecm: bool) -> Setup {
    let mut s = simple(pages, 12);
    s.a.ecm = ecm;
    s
}

fn sent(o: &Outcome) -> Vec<String> {
    frame_names(o, Direction::Tx)
}

fn both(r: &Run, code: Completion, text: &str) {
    for (side, o) in [("caller", &r.result.a), ("answerer", &r.result.b)] {
        assert_eq!(o.completion, code, "{side}: {:?}", sent(o));
        assert_eq!(o.completion.text(), text, "{side}");
    }
}

#[test]
fn transmitter_interrupt_ends_in_voice_contact() {
    // `a` asks after page 1 of 2; `b`'s operator takes it (PIP); `a`'s operator comes after
    // 2 s: the fax session ends and both hand the line over without DCN.
    for ecm in [false, true] {
        let mut s = setup(2, ecm);
        s.a.operator = Operator {
            interrupt_after_page: Some(1),
            answers_after_ms: Some(2000),
            accept: true,
        };
        s.b.operator = PRESENT;
        let doc = s.docs_a[0].clone();
        let r = s.run();
        both(&r, Completion::Ok, "OK");
        let (a, b) = (&r.result.a, &r.result.b);
        let cmd = if ecm { "PPS" } else { "PRI-MPS" };
        assert!(
            sent(a).contains(&cmd.to_string()),
            "ecm {ecm}: {:?}",
            sent(a)
        );
        if ecm {
            // The PPS carries PRI-MPS as its post-page command.
            let pps = a.frames.iter().rfind(|f| f.name == "PPS").expect("PPS");
            assert!(pps.hex.starts_with("ff 13 bf 5f"), "{}", pps.hex);
        }
        assert_eq!(sent(b).last().map(String::as_str), Some("PIP"));
        assert!(!sent(a).contains(&"DCN".to_string()));
        assert!(!sent(b).contains(&"DCN".to_string()));
        assert_eq!(a.pages_sent, 1);
        assert_eq!(b.pages_received, 1);
        assert_eq!(r.rx_b.lock().unwrap()[0].rows, doc[0].rows);
        // `a` hung up (handed over) when its operator came, 2 s after PIP.
        let pip = a.frames.iter().find(|f| f.name == "PIP").expect("PIP").time;
        assert_eq!((a.end_time - pip).as_ms(), 2000);
    }
}

#[test]
fn refused_or_unanswered_interrupt_lets_the_call_go_on() {
    // `b` declines, or nobody is at `b`'s terminal: `b` answers PRI-MPS as MPS (MCF) and
    // every page goes through.
    for op in [
        Operator {
            accept: false,
            ..PRESENT
        },
        Operator {
            answers_after_ms: None,
            ..PRESENT
        },
    ] {
        let mut s = setup(2, false);
        s.a.operator = Operator {
            interrupt_after_page: Some(1),
            answers_after_ms: Some(0),
            accept: true,
        };
        s.b.operator = op;
        let r = s.run();
        both(&r, Completion::Ok, "OK");
        let a = sent(&r.result.a);
        assert!(a.contains(&"PRI-MPS".to_string()) && a.contains(&"EOP".to_string()));
        assert!(!sent(&r.result.b).iter().any(|n| n == "PIP" || n == "PIN"));
        assert_eq!(r.result.a.pages_sent, 2);
        assert_eq!(r.result.b.pages_received, 2);
    }
}

#[test]
fn receiver_interrupt_on_a_bad_page_is_pin() {
    // `b`'s operator asks after page 1, which `b` would reject (RTN): PIN, the page is not
    // kept; `a`'s operator takes the line.
    let mut s = setup(2, false);
    s.b.operator.interrupt_after_page = Some(1);
    s.b.faults.force_response = vec![(Fcf::RTN, 1)];
    s.a.operator = PRESENT;
    let r = s.run();
    both(&r, Completion::Ok, "OK");
    assert_eq!(sent(&r.result.b).last().map(String::as_str), Some("PIN"));
    assert_eq!(r.result.a.pages_sent, 0);
    assert_eq!(r.result.b.pages_received, 0);
    assert!(r.rx_b.lock().unwrap().is_empty());
}

#[test]
fn interrupt_after_the_last_page_uses_pri_eop() {
    let mut s = setup(1, false);
    s.a.operator = Operator {
        interrupt_after_page: Some(1),
        answers_after_ms: Some(500),
        accept: true,
    };
    s.b.operator = PRESENT;
    let r = s.run();
    both(&r, Completion::Ok, "OK");
    assert!(sent(&r.result.a).contains(&"PRI-EOP".to_string()));
    assert_eq!(r.result.b.pages_received, 1);
}

#[test]
fn lost_pip_is_sent_again_to_the_repeated_pri_q() {
    let mut s = setup(2, false);
    s.a.operator = Operator {
        interrupt_after_page: Some(1),
        answers_after_ms: Some(1000),
        accept: true,
    };
    s.b.operator = PRESENT;
    s.b.faults.frames = vec![FrameRule {
        fcf: Fcf::PIP,
        occurrence: 1,
        fault: FrameFault::Drop,
    }];
    let r = s.run();
    both(&r, Completion::Ok, "OK");
    let pri = sent(&r.result.a).iter().filter(|n| *n == "PRI-MPS").count();
    assert_eq!(pri, 2);
    assert_eq!(r.result.b.pages_received, 1);
}

#[test]
fn receiver_gives_up_when_the_far_end_goes_quiet_after_pip() {
    // `a` goes silent once it has PIP: `b` waits T3 plus T2, then DCN with OPER_INT_FAIL.
    let mut s = setup(2, false);
    s.a.operator.interrupt_after_page = Some(1);
    s.a.faults.silence_after_rx = Some((Fcf::PIP, 1));
    s.b.operator = PRESENT;
    let r = s.run();
    assert_eq!(r.result.b.completion, Completion::OperIntFail);
    assert_eq!(r.result.b.completion.text(), "Operator intervention failed");
    assert_eq!(sent(&r.result.b).last().map(String::as_str), Some("DCN"));
    assert_eq!(r.result.a.completion, Completion::Calldropped);
}

#[test]
fn receiver_interrupt_in_ecm_answers_the_last_pps_with_pip() {
    // `b` asks after page 2 of 3; the page-2 PPS-MPS gets PIP instead of MCF.
    let mut s = setup(3, true);
    s.b.operator.interrupt_after_page = Some(2);
    s.a.operator = PRESENT;
    let doc = s.docs_a[0].clone();
    let r = s.run();
    both(&r, Completion::Ok, "OK");
    assert!(r.result.a.ecm);
    let b = sent(&r.result.b);
    assert_eq!(b.iter().filter(|n| *n == "PIP").count(), 1);
    assert_eq!(b.last().map(String::as_str), Some("PIP"));
    assert_eq!(r.result.a.pages_sent, 2);
    assert_eq!(r.result.b.pages_received, 2);
    let got = r.rx_b.lock().unwrap();
    assert_eq!(got[1].rows, doc[1].rows);
}
