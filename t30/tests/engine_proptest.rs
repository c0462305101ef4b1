//! Must-show 3: random fault schedules on both sides. Every call ends within a bounded
//! simulated time without a panic, both outcomes are valid, and every page counted as
//! received without bad rows is bit-exact.

mod engine_pair;
use engine_pair::*;
use proptest::prelude::*;
use t30::completion::Completion;
use t30::engine::{Faults, FrameFault, FrameRule, Operator, Status, TcfFault};
use t30::frame::Fcf;
use t30::time::SampleTime;

const FRAMES: &[Fcf] = &[
    Fcf::DIS,
    Fcf::CSI,
    Fcf::DTC,
    Fcf::DCS,
    Fcf::TSI,
    Fcf::CFR,
    Fcf::FTT,
    Fcf::MPS,
    Fcf::EOM,
    Fcf::EOP,
    Fcf::MCF,
    Fcf::RTP,
    Fcf::RTN,
    Fcf::PPS,
    Fcf::PPR,
    Fcf::RR,
    Fcf::RNR,
    Fcf::CTC,
    Fcf::CTR,
    Fcf::EOR,
    Fcf::ERR,
    Fcf::DCN,
    Fcf::CRP,
];

fn fcf() -> impl Strategy<Value = Fcf> {
    prop::sample::select(FRAMES)
}

fn raw() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            fcf(),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..6)
        )
            .prop_map(|(f, x, fif)| { t30::frame::Frame::new(f, x, fif, true).to_bytes() }),
        prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn frame_fault() -> impl Strategy<Value = FrameFault> {
    prop_oneof![
        Just(FrameFault::Drop),
        Just(FrameFault::CorruptFcs),
        raw().prop_map(FrameFault::Replace),
        raw().prop_map(FrameFault::InsertBefore),
        (0u64..5000).prop_map(FrameFault::Delay),
        Just(FrameFault::FlagsOnly(43)),
        (0u64..14_000).prop_map(FrameFault::HoldCarrier),
        Just(FrameFault::SilenceAfter),
        Just(FrameFault::HangUpAfter),
    ]
}

fn faults() -> impl Strategy<Value = Faults> {
    (
        prop::collection::vec(
            (fcf(), 0u32..4, frame_fault()).prop_map(|(fcf, occurrence, fault)| FrameRule {
                fcf,
                occurrence,
                fault,
            }),
            0..4,
        ),
        prop::collection::vec(
            prop_oneof![
                Just(TcfFault::Missing),
                Just(TcfFault::WrongRate),
                Just(TcfFault::Pattern(0x55)),
                (0u64..1500).prop_map(TcfFault::Short),
            ],
            0..3,
        ),
        prop::collection::vec((1u32..3, prop::collection::vec(0u32..20, 0..6)), 0..2),
        prop::collection::vec(
            (1u32..3, prop::collection::vec(0u8..40, 0..4), 0u32..6),
            0..2,
        ),
        prop::collection::vec(
            (
                prop::sample::select(
                    &[Fcf::FTT, Fcf::RTN, Fcf::RTP, Fcf::PPR, Fcf::RNR, Fcf::CRP][..],
                ),
                0u32..6,
            ),
            0..3,
        ),
        prop::option::of((fcf(), 1u32..3)),
        prop::option::of((fcf(), 1u32..3)),
        prop::collection::vec((1u32..3, 0u32..100), 0..2),
        any::<bool>(),
    )
        .prop_map(
            |(frames, tcf, rows, ecm_frames, force, silence, hang, cut, no_hang_up)| Faults {
                frames,
                tcf,
                corrupt_rows: rows,
                cut_page: cut,
                corrupt_ecm_frames: ecm_frames,
                force_response: force,
                silence_after_rx: silence,
                hang_up_after_rx: hang,
                no_hang_up,
            },
        )
}

/// An operator that may ask for a procedure interrupt, come late or never, accept or not.
fn operator() -> impl Strategy<Value = Operator> {
    (
        prop::option::of(1u32..4),
        prop::option::of(0u64..20_000),
        any::<bool>(),
    )
        .prop_map(
            |(interrupt_after_page, answers_after_ms, accept)| Operator {
                interrupt_after_page,
                answers_after_ms,
                accept,
            },
        )
}

/// Each side gets faults with this probability (so clean calls are also explored).
fn maybe_faults() -> impl Strategy<Value = Faults> {
    prop_oneof![1 => Just(Faults::default()), 3 => faults()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_faults_end_cleanly(
        fa in maybe_faults(),
        fb in maybe_faults(),
        ecm in any::<bool>(),
        pages in 1usize..4,
        docs in 1usize..3,
        polling in any::<bool>(),
        op_a in operator(),
        op_b in operator(),
    ) {
        let mut s = simple(0, 0);
        let documents: Vec<Vec<TestPage>> = (0..docs)
            .map(|d| {
                (0..pages)
                    .map(|p| TestPage::new((d * 7 + p) as u32, 20, t30::engine::Resolution::Standard, t30::frame::PageWidth::A4))
                    .collect()
            })
            .collect();
        if polling {
            s.a.poll = true;
            s.docs_a = vec![];
            s.docs_b = documents.clone();
            s.b.ecm = ecm;
        } else {
            s.docs_a = documents.clone();
            s.a.ecm = ecm;
        }
        s.b.ecm_frame_size = t30::engine::EcmFrameSize::Octets64;
        s.a.ecm_frame_size = t30::engine::EcmFrameSize::Octets64;
        s.a.faults = fa;
        s.b.faults = fb;
        s.a.operator = op_a;
        s.b.operator = op_b;
        let limit = SampleTime::from_ms(30 * 60 * 1000);
        let r = s.run_for(limit);
        for o in [&r.result.a, &r.result.b] {
            prop_assert!(o.end_time <= limit);
            prop_assert!(Completion::from_code(o.completion.code()) == Some(o.completion));
            prop_assert_eq!(o.status == Status::Success, o.completion == Completion::Ok);
            prop_assert!(!(41..=47).contains(&o.completion.code()), "document codes need a failing document");
        }
        let (rx, kept) = if polling { (&r.result.a, &r.rx_a) } else { (&r.result.b, &r.rx_b) };
        let kept = kept.lock().unwrap();
        prop_assert_eq!(rx.pages_received as usize, kept.len());
        let sent: Vec<&TestPage> = documents.iter().flatten().collect();
        prop_assert!(kept.len() <= sent.len());
        // Kept pages come in sending order; a clean one equals the page it stands for.
        // (A faulty sender may skip pages, so the match is searched forward.)
        let mut next = 0;
        for (i, k) in kept.iter().enumerate() {
            if k.quality.bad_rows == 0 && k.quality.complete {
                let found = sent[next..].iter().position(|p| p.rows == k.rows);
                prop_assert!(found.is_some(), "page {} matches no page sent after page {}", i, next);
                next += found.unwrap_or(0) + 1;
            } else {
                next += 1;
            }
        }
    }
}
