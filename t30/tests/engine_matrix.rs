//! Must-show 1: every combination of role × direction × ECM × frame size × coding ×
//! resolution × page count × multi-document succeeds, with the pages bit-identical and the
//! negotiated parameters as T.30 requires (T.6 only with ECM).

mod engine_pair;
use engine_pair::*;
use t30::completion::Completion;
use t30::engine::{Coding, Config, EcmFrameSize, Resolution, Role};
use t30::frame::PageWidth;

#[derive(Debug, Clone, Copy)]
enum Dir {
    /// The caller sends to the answerer.
    CallerSends,
    /// The caller polls; the answerer sends.
    CallerPolls,
}

fn codings(best: Coding) -> Vec<Coding> {
    match best {
        Coding::Mh => vec![Coding::Mh],
        Coding::Mr => vec![Coding::Mh, Coding::Mr],
        Coding::Mmr => vec![Coding::Mh, Coding::Mr, Coding::Mmr],
    }
}

fn one(
    dir: Dir,
    ecm: Option<EcmFrameSize>,
    best: Coding,
    res: Resolution,
    pages: usize,
    docs: usize,
) {
    let label =
        format!("{dir:?} ecm={ecm:?} coding={best:?} res={res:?} pages={pages} docs={docs}");
    let mut caller = Config::new(Role::Caller);
    caller.ident = "CALLER".into();
    let mut answerer = Config::new(Role::Answerer);
    answerer.ident = "ANSWERER".into();
    let documents: Vec<Vec<t30::image::Bitmap>> = (0..docs)
        .map(|d| {
            (0..pages)
                .map(|p| real_page((d * 10 + p) as u32, 60 + 20 * p as u32, res))
                .collect()
        })
        .collect();
    let sender = match dir {
        Dir::CallerSends => &mut caller,
        Dir::CallerPolls => &mut answerer,
    };
    sender.ecm = ecm.is_some();
    if let Some(size) = ecm {
        sender.ecm_frame_size = size;
    }
    sender.codings = codings(best);
    let (r, got) = match dir {
        Dir::CallerSends => {
            let (r, _, kb) = run_real(caller, documents.clone(), answerer, vec![]);
            (r, kb)
        }
        Dir::CallerPolls => {
            caller.poll = true;
            let (r, ka, _) = run_real(caller, vec![], answerer, documents.clone());
            (r, ka)
        }
    };
    let (tx, rx) = match dir {
        Dir::CallerSends => (&r.a, &r.b),
        Dir::CallerPolls => (&r.b, &r.a),
    };
    assert_eq!(tx.completion, Completion::Ok, "{label}: sender");
    assert_eq!(rx.completion, Completion::Ok, "{label}: receiver");
    assert_eq!(tx.completion.text(), "OK");
    let total = (pages * docs) as u32;
    assert_eq!(tx.pages_sent, total, "{label}");
    assert_eq!(rx.pages_received, total, "{label}");
    // What T.30 allows: T.6 only with ECM, so MMR without ECM negotiates down to MR.
    let want_coding = match (best, ecm.is_some()) {
        (Coding::Mmr, false) => Coding::Mr,
        (c, _) => c,
    };
    assert_eq!(tx.coding, Some(want_coding), "{label}");
    assert_eq!(rx.coding, Some(want_coding), "{label}");
    assert_eq!(tx.ecm, ecm.is_some(), "{label}");
    assert_eq!(rx.ecm_frame_size, ecm.map(|s| s.octets()), "{label}");
    assert_eq!(rx.resolution, Some(res), "{label}");
    assert_eq!(tx.rate, Some(14400), "{label}");
    assert_eq!(rx.bad_rows, 0, "{label}");
    let got = got.lock().unwrap();
    let want: Vec<&t30::image::Bitmap> = documents.iter().flatten().collect();
    assert_eq!(got.len(), want.len(), "{label}");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert_eq!(g.bitmap().width(), w.width(), "{label}: page {i}");
        assert_eq!(g.bitmap().height(), w.height(), "{label}: page {i}");
        assert!(g.bitmap().data() == w.data(), "{label}: page {i} differs");
        assert_eq!(g.bad_rows, 0);
        assert!(g.end_of_page_seen);
    }
}

#[test]
fn every_combination_succeeds_bit_exact() {
    let mut calls = 0;
    for dir in [Dir::CallerSends, Dir::CallerPolls] {
        for ecm in [
            None,
            Some(EcmFrameSize::Octets64),
            Some(EcmFrameSize::Octets256),
        ] {
            for best in [Coding::Mh, Coding::Mr, Coding::Mmr] {
                for res in [
                    Resolution::Standard,
                    Resolution::Fine,
                    Resolution::Superfine,
                ] {
                    for pages in 1..=3 {
                        for docs in 1..=2 {
                            one(dir, ecm, best, res, pages, docs);
                            calls += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(calls, 2 * 3 * 3 * 3 * 3 * 2);
}

#[test]
fn resolution_negotiates_down_when_far_end_lacks_it() {
    // TSB-85 MTGN02: a fine page to a station without fine goes out at standard.
    let mut s = simple(1, 10);
    s.docs_a = vec![vec![TestPage::new(1, 10, Resolution::Fine, PageWidth::A4)]];
    s.b.resolutions = vec![Resolution::Standard];
    s.a.ecm = false;
    let doc = s.docs_a[0].clone();
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Ok);
    assert_eq!(r.result.b.resolution, Some(Resolution::Standard));
    assert_eq!(
        r.rx_b.lock().unwrap()[0].rows,
        doc[0].rows_at(Resolution::Standard)
    );
}

#[test]
fn basic_dis_gives_the_basic_dcs() {
    // TSB-85 MTGN03: against a minimal DIS the DCS is 00 0a 00 as octets (V.27ter 4800,
    // receiver operation, A4, standard, 20 ms).
    let mut s = simple(1, 5);
    s.a.ecm = false;
    s.b.modems = vec![t30::frame::dis::modem_name::Modem::V27ter];
    s.b.max_rate = 4800;
    s.b.ecm = false;
    s.b.codings = vec![Coding::Mh];
    s.b.resolutions = vec![Resolution::Standard];
    s.b.length = t30::frame::PageLength::A4;
    s.b.min_scan_ms = 20;
    s.b.accept = vec![
        (t30::frame::Fcf::SUB, t30::engine::Accept::Reject),
        (t30::frame::Fcf::PWD, t30::engine::Accept::Reject),
        (t30::frame::Fcf::SEP, t30::engine::Accept::Reject),
        (t30::frame::Fcf::PSA, t30::engine::Accept::Reject),
    ];
    let r = s.run();
    assert_eq!(r.result.a.completion, Completion::Ok);
    let dcs = r
        .result
        .a
        .frames
        .iter()
        .find(|f| f.name == "DCS")
        .expect("DCS sent");
    assert_eq!(dcs.hex, "ff 13 83 00 0a 00");
    assert_eq!(r.result.a.rate, Some(4800));
}

#[test]
fn real_codec_fine_page_to_a_standard_only_receiver() {
    let mut a = Config::new(Role::Caller);
    a.ecm = false;
    let mut b = Config::new(Role::Answerer);
    b.resolutions = vec![Resolution::Standard];
    let page = real_page(5, 80, Resolution::Fine);
    let (r, _, kb) = run_real(a, vec![vec![page.clone()]], b, vec![]);
    assert_eq!(r.a.completion, Completion::Ok);
    assert_eq!(r.b.resolution, Some(Resolution::Standard));
    let got = kb.lock().unwrap();
    let params = t30::engine::PageParams {
        coding: Coding::Mr,
        resolution: Resolution::Standard,
        width: PageWidth::A4,
        min_row_bits: 0,
        ecm: false,
    };
    let want = t30::engine::codec::page_for(&page, &params).unwrap();
    assert_eq!(got[0].bitmap().height(), 80);
    assert!(got[0].bitmap().data() == want.data());
}

#[test]
fn real_codec_bad_rows_are_counted_and_judged() {
    // Damaged rows through the real T.4 decoder: a few -> MCF, many -> RTN.
    for (rows, want) in [
        (vec![10u32], "MCF"),
        ((10..40).collect::<Vec<u32>>(), "RTN"),
    ] {
        let mut a = Config::new(Role::Caller);
        a.ecm = false;
        a.codings = vec![Coding::Mh];
        a.faults.corrupt_rows = vec![(1, rows.clone())];
        let b = Config::new(Role::Answerer);
        let page = real_page(7, 120, Resolution::Standard);
        let (r, _, _) = run_real(a, vec![vec![page]], b, vec![]);
        let resp: Vec<&str> =
            r.b.frames
                .iter()
                .filter(|f| {
                    f.dir == t30::engine::Direction::Tx
                        && ["MCF", "RTP", "RTN"].contains(&f.name.as_str())
                })
                .map(|f| f.name.as_str())
                .collect();
        assert_eq!(resp.first().copied(), Some(want), "{rows:?}: {resp:?}");
    }
}

#[test]
fn minimum_scan_line_time_adds_fill_and_still_decodes() {
    // MTGN05: the receiver asks for 40 ms rows; the sender pads rows with fill bits.
    let run = |scan: u8| {
        let mut a = Config::new(Role::Caller);
        a.ecm = false;
        let mut b = Config::new(Role::Answerer);
        b.min_scan_ms = scan;
        let page = real_page(9, 100, Resolution::Standard);
        let (r, _, kb) = run_real(a, vec![vec![page.clone()]], b, vec![]);
        assert_eq!(r.a.completion, Completion::Ok);
        assert!(kb.lock().unwrap()[0].bitmap().data() == page.data());
        let dcs = r.a.frames.iter().find(|f| f.name == "DCS").unwrap();
        let bytes: Vec<u8> = dcs
            .hex
            .split(' ')
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect();
        let bits = t30::frame::DisBits::from_fif(&bytes[3..]);
        let ms = bits.min_scan_time(t30::frame::FrameKind::Dcs).unwrap().ms;
        let at = |name: &str| r.a.frames.iter().find(|f| f.name == name).unwrap().time;
        (ms, (at("EOP") - at("CFR")).as_ms())
    };
    let (ms0, page0) = run(0);
    let (ms40, page40) = run(40);
    assert_eq!((ms0, ms40), (0, 40));
    // 100 rows of at least 40 ms each: the page takes at least 4 s on the line.
    assert!(page40 >= 4000 && page40 > page0, "{page0} ms, {page40} ms");
}
