//! An in-memory transport for engine-against-engine tests: frames, TCF and image data are
//! handed across with simulated durations (preambles, training, bits at the rate, 75 ms
//! gaps come from the engines), no audio. Also a small test document and page sink.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

use t30::completion::Completion;
use t30::engine::{
    Action, Channel, Coding, Config, DocumentSource, EncodedPage, Engine, Outcome, PageInfo,
    PageParams, PageQuality, PageSink, Resolution, RxMode, Tone, TxMode,
};
use t30::frame::PageWidth;
use t30::frame::dis::modem_name::Modem;
use t30::time::SampleTime;

// ---------------------------------------------------------------- test document

/// A page of rows of pixel octets at its native resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPage {
    pub rows: Vec<Vec<u8>>,
    pub resolution: Resolution,
    pub width: PageWidth,
}

impl TestPage {
    /// A deterministic page: `rows` rows at `resolution`, content seeded by `seed`.
    pub fn new(seed: u32, rows: usize, resolution: Resolution, width: PageWidth) -> TestPage {
        let pels = t30::engine::page::pels_for_width(width) as usize / 8;
        let mut x = seed.wrapping_mul(2654435761).wrapping_add(12345);
        let rows = (0..rows)
            .map(|_| {
                (0..pels)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        (x & 0xFF) as u8
                    })
                    .collect()
            })
            .collect();
        TestPage {
            rows,
            resolution,
            width,
        }
    }

    /// The rows the page has at `res` (rows dropped when reducing resolution).
    pub fn rows_at(&self, res: Resolution) -> Vec<Vec<u8>> {
        let step = (self.resolution.rows_per_standard_row() / res.rows_per_standard_row()).max(1);
        self.rows.iter().step_by(step as usize).cloned().collect()
    }
}

const TRAILER: [u8; 3] = [0xEE, 0xEE, 0xEE];

fn check(row: &[u8], index: usize, tag: u8) -> u8 {
    // FNV-1a over the row, its index and the coding tag.
    let h = row
        .iter()
        .chain([index as u8, tag].iter())
        .fold(0x811c_9dc5u32, |h, &b| {
            (h ^ b as u32).wrapping_mul(0x0100_0193)
        });
    (h ^ h >> 8 ^ h >> 16 ^ h >> 24) as u8
}

/// A stand-in page coding for transport tests: a header naming the coding, each row followed
/// by a check octet (so corrupted rows are detected), and a trailer in place of RTC.
pub fn encode_test_page(rows: &[Vec<u8>], params: &PageParams) -> EncodedPage {
    let tag = 0x10 | params.coding as u8;
    let mut data = vec![tag, rows.len() as u8, (rows.len() >> 8) as u8];
    let mut starts = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        starts.push(data.len()..data.len() + r.len());
        data.extend_from_slice(r);
        data.push(check(r, i, tag));
    }
    data.extend_from_slice(&TRAILER);
    EncodedPage {
        data,
        row_data: starts,
    }
}

/// A document of test pages; records the parameters each page was encoded with.
pub struct TestDoc {
    pub pages: Vec<TestPage>,
    pub encoded_with: Arc<Mutex<Vec<PageParams>>>,
}

impl TestDoc {
    pub fn new(pages: Vec<TestPage>) -> TestDoc {
        TestDoc {
            pages,
            encoded_with: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl DocumentSource for TestDoc {
    fn pages(&self) -> usize {
        self.pages.len()
    }
    fn page_info(&self, page: usize) -> PageInfo {
        PageInfo {
            resolution: self.pages[page].resolution,
            width: self.pages[page].width,
        }
    }
    fn encode_page(&mut self, page: usize, params: &PageParams) -> Result<EncodedPage, Completion> {
        self.encoded_with.lock().unwrap().push(*params);
        let p = self.pages.get(page).ok_or(Completion::Nopage)?;
        Ok(encode_test_page(&p.rows_at(params.resolution), params))
    }
}

/// A received page as the sink decoded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPage {
    pub params: PageParams,
    pub rows: Vec<Vec<u8>>,
    pub quality: PageQuality,
}

/// Decodes test pages; keeps what the engine commits.
#[derive(Default)]
pub struct TestSink {
    pub width_octets: usize,
    pub current: Option<(PageParams, Vec<u8>)>,
    pub decoded: Option<ReceivedPage>,
    pub kept: Arc<Mutex<Vec<ReceivedPage>>>,
}

impl TestSink {
    pub fn new() -> (TestSink, Arc<Mutex<Vec<ReceivedPage>>>) {
        let kept = Arc::new(Mutex::new(Vec::new()));
        (
            TestSink {
                kept: kept.clone(),
                ..Default::default()
            },
            kept,
        )
    }
}

impl PageSink for TestSink {
    fn start_page(&mut self, params: &PageParams) {
        self.current = Some((*params, Vec::new()));
    }
    fn data(&mut self, bytes: &[u8]) {
        if let Some((_, d)) = self.current.as_mut() {
            d.extend_from_slice(bytes);
        }
    }
    fn end_page(&mut self) -> PageQuality {
        let Some((params, data)) = self.current.take() else {
            return PageQuality::default();
        };
        let row_len = t30::engine::page::pels_for_width(params.width) as usize / 8;
        let tag = 0x10 | params.coding as u8;
        let mut q = PageQuality::default();
        let mut rows = Vec::new();
        if data.len() >= 3 && data[0] == tag {
            let n = data[1] as usize | (data[2] as usize) << 8;
            let mut pos = 3;
            let mut run = 0;
            for i in 0..n {
                if pos + row_len + 1 > data.len() {
                    break;
                }
                let r = data[pos..pos + row_len].to_vec();
                let ok = check(&r, i, tag) == data[pos + row_len];
                pos += row_len + 1;
                q.rows += 1;
                if ok {
                    run = 0;
                } else {
                    q.bad_rows += 1;
                    run += 1;
                    q.longest_bad_run = q.longest_bad_run.max(run);
                }
                rows.push(r);
            }
            q.complete = data.get(pos..pos + 3) == Some(&TRAILER[..]);
        }
        self.decoded = Some(ReceivedPage {
            params,
            rows,
            quality: q,
        });
        q
    }
    fn commit_page(&mut self, keep: bool) {
        if let Some(p) = self.decoded.take()
            && keep
        {
            self.kept.lock().unwrap().push(p);
        }
    }
}

// ---------------------------------------------------------------- transport

#[derive(Debug, Clone)]
enum Ev {
    Frame(Vec<u8>, bool, bool), // bytes, fcs ok, on the fast modem
    Data(Vec<u8>, Modem, u32),
    Carrier(Channel, bool),
    Training(Modem, u32),
    Tone(Tone, bool),
    TxComplete,
    HangUp,
}

struct Queued {
    at: SampleTime,
    seq: u64,
    to: usize,
    ev: Ev,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

struct TxState {
    mode: Option<TxMode>,
    cursor: SampleTime,
}

/// Training time of a fast modem (long or short), in ms.
fn training_ms(modem: Modem, rate: u32, short: bool) -> u64 {
    match (modem, short) {
        (Modem::V17, true) => 142,
        (Modem::V17, false) => 1393,
        (Modem::V29, _) => 253,
        (Modem::V27ter, _) if rate == 2400 => 1108,
        (Modem::V27ter, _) => 923,
    }
}

pub struct Side {
    pub engine: Engine,
    listen: RxMode,
    tx: Option<TxState>,
    busy_until: SampleTime,
    hung_up: bool,
}

/// Two engines joined by an ideal in-memory line.
pub struct Pair {
    pub sides: [Side; 2],
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
    pub now: SampleTime,
    pub steps: u64,
}

/// How a call ended.
pub struct CallResult {
    pub a: Outcome,
    pub b: Outcome,
    pub end: SampleTime,
}

impl Pair {
    pub fn new(a: Engine, b: Engine) -> Pair {
        let side = |engine| Side {
            engine,
            listen: RxMode::V21,
            tx: None,
            busy_until: SampleTime::ZERO,
            hung_up: false,
        };
        Pair {
            sides: [side(a), side(b)],
            queue: BinaryHeap::new(),
            seq: 0,
            now: SampleTime::ZERO,
            steps: 0,
        }
    }

    fn push(&mut self, at: SampleTime, to: usize, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            to,
            ev,
        }));
    }

    fn drain(&mut self, i: usize) {
        let now = self.now;
        let other = 1 - i;
        while let Some(a) = self.sides[i].engine.poll_action() {
            if std::env::var("PAIR_DEBUG").is_ok() {
                let short = format!("{a:?}");
                println!(
                    "{:9.3} side {i}: {}",
                    now.as_secs_f64(),
                    &short[..short.len().min(60)]
                );
            }
            match a {
                Action::Listen(m) => self.sides[i].listen = m,
                Action::StartTx(mode) => {
                    let cursor;
                    match mode {
                        TxMode::V21 => {
                            self.push(now, other, Ev::Carrier(Channel::Control, true));
                            cursor = now + SampleTime::from_ms(1000);
                        }
                        TxMode::Fast {
                            modem,
                            rate,
                            short_train,
                        } => {
                            self.push(now, other, Ev::Carrier(Channel::Fast, true));
                            cursor =
                                now + SampleTime::from_ms(training_ms(modem, rate, short_train));
                            self.push(cursor, other, Ev::Training(modem, rate));
                        }
                    }
                    self.sides[i].tx = Some(TxState {
                        mode: Some(mode),
                        cursor,
                    });
                    self.sides[i].busy_until = SampleTime(u64::MAX);
                }
                Action::SendFrame { bytes, fcs_ok } => {
                    let (rate, fast, cursor) = self.tx_info(i);
                    let end = cursor + SampleTime::for_bits((bytes.len() as u64 + 3) * 8, rate);
                    self.set_cursor(i, end);
                    self.push(end, other, Ev::Frame(bytes, fcs_ok, fast));
                }
                Action::SendFlags { count } => {
                    let (rate, _, cursor) = self.tx_info(i);
                    self.set_cursor(i, cursor + SampleTime::for_bits(count as u64 * 8, rate));
                }
                Action::SendTcf { bytes } | Action::SendImage { bytes } => {
                    let (rate, _, cursor) = self.tx_info(i);
                    let end = cursor + SampleTime::for_bits(bytes.len() as u64 * 8, rate);
                    self.set_cursor(i, end);
                    if let Some(TxState {
                        mode: Some(TxMode::Fast { modem, rate, .. }),
                        ..
                    }) = self.sides[i].tx
                    {
                        self.push(end, other, Ev::Data(bytes, modem, rate));
                    }
                }
                Action::StopTx => {
                    let (rate, fast, cursor) = self.tx_info(i);
                    let end = cursor + SampleTime::for_bits(8, rate);
                    let ch = if fast {
                        Channel::Fast
                    } else {
                        Channel::Control
                    };
                    self.push(end, other, Ev::Carrier(ch, false));
                    self.push(end, i, Ev::TxComplete);
                    self.sides[i].tx = None;
                    self.sides[i].busy_until = end;
                }
                Action::SendTone { tone, ms } => {
                    let end = now + SampleTime::from_ms(ms);
                    self.push(now, other, Ev::Tone(tone, true));
                    self.push(end, other, Ev::Tone(tone, false));
                    self.push(end, i, Ev::TxComplete);
                    self.sides[i].busy_until = end;
                }
                Action::HangUp => {
                    self.sides[i].hung_up = true;
                    self.push(now, other, Ev::HangUp);
                }
            }
        }
    }

    fn tx_info(&self, i: usize) -> (u32, bool, SampleTime) {
        match &self.sides[i].tx {
            Some(TxState {
                mode: Some(TxMode::Fast { rate, .. }),
                cursor,
            }) => (*rate, true, *cursor),
            Some(TxState { cursor, .. }) => (300, false, *cursor),
            None => (300, false, self.now),
        }
    }

    fn set_cursor(&mut self, i: usize, c: SampleTime) {
        if let Some(t) = self.sides[i].tx.as_mut() {
            t.cursor = c;
        }
    }

    fn deliver(&mut self, to: usize, ev: Ev) {
        let now = self.now;
        let busy = self.sides[to].busy_until > now;
        let listen = self.sides[to].listen;
        let e = &mut self.sides[to].engine;
        match ev {
            Ev::Frame(bytes, ok, fast) => {
                if busy {
                    return;
                }
                if fast {
                    // ECM frames need the receiver on the same fast modem.
                    if !matches!(listen, RxMode::Fast { .. }) {
                        return;
                    }
                }
                e.handle_frame(&bytes, ok, now);
            }
            Ev::Data(bytes, modem, rate) => {
                if listen == (RxMode::Fast { modem, rate }) && !busy {
                    e.handle_data(&bytes, now);
                }
            }
            Ev::Carrier(ch, up) => e.handle_carrier(ch, up, now),
            Ev::Training(modem, rate) => {
                e.handle_training(listen == RxMode::Fast { modem, rate } && !busy, now)
            }
            Ev::Tone(t, on) => e.handle_tone(t, on, now),
            Ev::TxComplete => e.handle_tx_complete(now),
            Ev::HangUp => e.handle_hangup(now),
        }
    }

    /// Runs until both engines finish; panics with the time and step count when the call
    /// does not end within `limit`.
    pub fn run(&mut self, limit: SampleTime) -> CallResult {
        self.sides[0].engine.handle_start(self.now);
        self.sides[1].engine.handle_start(self.now);
        loop {
            self.drain(0);
            self.drain(1);
            if self.sides.iter().all(|s| s.engine.is_finished()) {
                break;
            }
            let next_ev = self.queue.peek().map(|q| q.0.at);
            let next_t = self
                .sides
                .iter()
                .filter_map(|s| s.engine.poll_timeout())
                .min();
            let next = match (next_ev, next_t) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None)
                    if self
                        .sides
                        .iter()
                        .all(|s| s.engine.is_finished() || s.engine.is_silent()) =>
                {
                    // Only silent engines are left: the network clears the call.
                    for i in 0..2 {
                        self.sides[i].engine.handle_hangup(self.now);
                    }
                    continue;
                }
                (None, None) => panic!(
                    "call stalled at {:.3} s after {} steps: {:?} / {:?}",
                    self.now.as_secs_f64(),
                    self.steps,
                    self.sides[0].engine,
                    self.sides[1].engine
                ),
            };
            assert!(
                next <= limit,
                "call did not end by {:.3} s ({} steps): {:?} / {:?}",
                limit.as_secs_f64(),
                self.steps,
                self.sides[0].engine,
                self.sides[1].engine
            );
            self.now = self.now.max(next);
            self.steps += 1;
            while self.queue.peek().is_some_and(|q| q.0.at <= self.now) {
                let q = self.queue.pop().expect("peeked").0;
                self.deliver(q.to, q.ev);
                self.drain(0);
                self.drain(1);
            }
            for i in 0..2 {
                self.sides[i].engine.handle_timeout(self.now);
            }
        }
        CallResult {
            a: self.sides[0].engine.outcome().expect("finished"),
            b: self.sides[1].engine.outcome().expect("finished"),
            end: self.now,
        }
    }
}

// ---------------------------------------------------------------- helpers

/// A ready-made sender/receiver pair setup.
pub struct Setup {
    pub a: Config,
    pub b: Config,
    pub docs_a: Vec<Vec<TestPage>>,
    pub docs_b: Vec<Vec<TestPage>>,
}

pub struct Run {
    pub result: CallResult,
    pub rx_a: Arc<Mutex<Vec<ReceivedPage>>>,
    pub rx_b: Arc<Mutex<Vec<ReceivedPage>>>,
    pub enc_a: Vec<Arc<Mutex<Vec<PageParams>>>>,
    pub enc_b: Vec<Arc<Mutex<Vec<PageParams>>>>,
}

/// Caller `a` sends `pages` standard A4 pages of `rows` rows to answerer `b`.
pub fn simple(pages: usize, rows: usize) -> Setup {
    let mut a = Config::new(t30::engine::Role::Caller);
    a.ident = "+1 555 0100".into();
    let mut b = Config::new(t30::engine::Role::Answerer);
    b.ident = "+1 555 0199".into();
    Setup {
        a,
        b,
        docs_a: vec![
            (0..pages)
                .map(|i| TestPage::new(i as u32, rows, Resolution::Standard, PageWidth::A4))
                .collect(),
        ],
        docs_b: vec![],
    }
}

pub type Shared<T> = Arc<Mutex<Vec<T>>>;

fn make(
    cfg: Config,
    docs: Vec<Vec<TestPage>>,
) -> (Engine, Shared<ReceivedPage>, Vec<Shared<PageParams>>) {
    let (sink, kept) = TestSink::new();
    let mut encs = Vec::new();
    let docs: Vec<Box<dyn DocumentSource>> = docs
        .into_iter()
        .map(|p| {
            let d = TestDoc::new(p);
            encs.push(d.encoded_with.clone());
            Box::new(d) as Box<dyn DocumentSource>
        })
        .collect();
    let e = Engine::new(cfg, docs, Some(Box::new(sink))).expect("valid config");
    (e, kept, encs)
}

impl Setup {
    pub fn run(self) -> Run {
        self.run_for(SampleTime::from_ms(30 * 60 * 1000))
    }

    pub fn run_for(self, limit: SampleTime) -> Run {
        let (ea, rx_a, enc_a) = make(self.a, self.docs_a);
        let (eb, rx_b, enc_b) = make(self.b, self.docs_b);
        let mut pair = Pair::new(ea, eb);
        let result = pair.run(limit);
        Run {
            result,
            rx_a,
            rx_b,
            enc_a,
            enc_b,
        }
    }
}

/// The rows each sent page should arrive with, at the resolution it was sent.
pub fn expected_rows(doc: &[TestPage], res: Resolution) -> Vec<Vec<Vec<u8>>> {
    doc.iter().map(|p| p.rows_at(res)).collect()
}

pub fn frame_names(o: &Outcome, dir: t30::engine::Direction) -> Vec<String> {
    o.frames
        .iter()
        .filter(|f| f.dir == dir)
        .map(|f| f.name.clone())
        .collect()
}

pub fn coding_ok(c: Coding) -> bool {
    matches!(c, Coding::Mh | Coding::Mr | Coding::Mmr)
}

// ---------------------------------------------------------------- real codec

/// A page with text and shapes at `res`, `rows_std` rows at standard resolution.
pub fn real_page(seed: u32, rows_std: u32, res: Resolution) -> t30::image::Bitmap {
    use t30::engine::codec::image_resolution;
    let r = image_resolution(res);
    let k = res.rows_per_standard_row();
    let mut b = t30::image::Bitmap::new(1728, rows_std * k, r).expect("page size");
    let text = format!("FAXSIM PAGE {seed} {res:?} THE QUICK BROWN FOX 0123456789");
    let mut y = 4 * k;
    let mut line = 0;
    while y + 9 * k < b.height() {
        t30::image::testpage::draw_text(&mut b, 20 + 7 * (line % 5), y, 2, k, &text, true);
        y += 12 * k;
        line += 1;
    }
    let x0 = 200 + (seed * 97) % 1200;
    b.fill_rect(x0, k, x0 + 200, 3 * k, true);
    b
}

/// Runs two engines with real documents (one `Vec` per document) and decoding sinks.
pub fn run_real(
    a: Config,
    docs_a: Vec<Vec<t30::image::Bitmap>>,
    b: Config,
    docs_b: Vec<Vec<t30::image::Bitmap>>,
) -> (
    CallResult,
    t30::engine::codec::ReceivedPages,
    t30::engine::codec::ReceivedPages,
) {
    use t30::engine::codec::{BitmapDocument, DecodingSink};
    let build = |cfg: Config, docs: Vec<Vec<t30::image::Bitmap>>| {
        let (sink, kept) = DecodingSink::new();
        let docs: Vec<Box<dyn DocumentSource>> = docs
            .into_iter()
            .map(|p| Box::new(BitmapDocument::new(p)) as Box<dyn DocumentSource>)
            .collect();
        (
            Engine::new(cfg, docs, Some(Box::new(sink))).expect("valid config"),
            kept,
        )
    };
    let (ea, ka) = build(a, docs_a);
    let (eb, kb) = build(b, docs_b);
    let result = Pair::new(ea, eb).run(SampleTime::from_ms(60 * 60 * 1000));
    (result, ka, kb)
}
