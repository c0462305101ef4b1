//! ITU-T V.29: 9600/7200/4800 bit/s QAM at 2400 baud on a 1700 Hz carrier.
//!
//! # Signal
//! The scrambled data (polynomial 1 + x⁻¹⁸ + x⁻²³) is cut into quadbits (9600), tribits
//! (7200) or dibits (4800). Bits Q2 Q3 Q4 select a phase change of a multiple of 45° from the
//! previous signal element (Gray-coded, table 1 of V.29); Q1 selects the amplitude, which
//! depends on whether the new absolute phase is on an axis (3 or 5) or on a diagonal
//! (√2 or 3√2). 7200 bit/s uses Q1 = 0 (the eight inner points); 4800 bit/s uses Q1 = 0 and
//! the four on-axis points, with Q4 = NOT(Q2 ⊕ Q3) so that only multiples of 90° occur.
//!
//! # Training (segments 1–4)
//! 1. 48 symbols of no energy.
//! 2. 128 symbols alternating A, B, A, B…: A is 180° amplitude 3; B is 315° amplitude 3√2
//!    (9600), 315° amplitude √2 (7200) or 270° amplitude 3 (4800).
//! 3. 384 symbols of C and D chosen by the sequence of 1 + x⁻⁶ + x⁻⁷ started from 0101010
//!    (0 → C, 1 → D): C is 0° amplitude 3; D is 135° amplitude 3√2 (9600), 135° amplitude √2
//!    (7200) or 90° amplitude 3 (4800).
//! 4. 48 symbols of scrambled binary ones, differentially encoded from the last element of
//!    segment 3; data follows at once.
//!
//! # Receiver
//! Carrier detection uses the fax thresholds (−43 dBm0 on, −48 dBm0 off; V.29 itself, written
//! for leased lines, gives −26/−31 dBm). On carrier the shared core ([`crate::qam`]) runs with
//! its AGC and Gardner timing; the segment-2 alternation is recognised from its two-symbol
//! periodicity (a tone 1200 Hz off the carrier, which also flips every symbol, is rejected
//! because A and B have a non-zero mean), and its two-symbol rotation presets the carrier
//! offset. The detector looks at both half-symbol samples of each symbol, so it sees the
//! alternation wherever the timing loop happens to sample it, and the alternation, a tone at
//! half the symbol rate, also gives the timing phase directly: the receiver moves its symbol
//! instants there at once. A Gardner loop started near its unstable point (the alternation's
//! zero crossings, where the on-time samples hold only the A–B mean) can otherwise take more
//! than segment 2's 128 symbols to leave it, most of all where line distortion weakens the
//! band edges that carry the alternation. The start of segment 3 is found by correlating the received symbols with the known
//! start of the conditioning sequence: this needs neither a trained equalizer nor to tell A
//! from B, which line distortion makes unreliable, and the correlation peak gives the
//! channel's gain and phase to start the equalizer from. The equalizer then trains on the
//! known segment-3 elements, decision-directed through segment 4, whose descrambled bits must
//! be ones (≥ 90 %) for `TrainingSucceeded`; otherwise `TrainingFailed` and the search
//! resumes. Data bits start with the first data bit the transmitter sent.
//!
//! # Turn-off
//! V.29 leaves the end of transmission to the interface (circuit 105 off). When the data
//! ends the transmitter completes the last symbol with ones, sends 48 symbols (20 ms) of
//! scrambled ones so that every data bit clears the far receiver's filters and equalizer, then
//! lets the pulse die away and stops. The receiver stops delivering bits as soon as the
//! equalized signal energy collapses, and reports carrier loss with hysteresis
//! (−43 dBm0 on, −48 dBm0 off).

use crate::dsp::{BlockShaper, CarrierDetect, Complex32, Pull};
use crate::qam::{DemodConfig, GroupDescrambler, QamDemod, half_rate_tone_lateness};
use crate::scrambler::{GroupScrambler, TAPS_V17_V29};
use crate::{
    BitSource, Error, Quality, Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig,
};

/// Carrier frequency, Hz.
pub const CARRIER_HZ: f32 = 1700.0;
/// Symbol rate, baud.
pub const BAUD: u32 = 2400;
/// The rates this implementation supports (V.29's 4800 bit/s fallback included).
pub const RATES: [u32; 3] = [4800, 7200, 9600];

/// Samples per symbol.
const SAMPLES_PER_SYMBOL: f32 = crate::SAMPLE_RATE as f32 / BAUD as f32;
/// Segment lengths in symbols.
const SEG1: u32 = 48;
const SEG2: u32 = 128;
const SEG3: u32 = 384;
const SEG4: u32 = 48;
/// Samples between the carrier detector's threshold crossing and the `CarrierUp` event: four
/// of its time constants, so the level reported is within 0.1 dB of the final one.
const CARRIER_SETTLE: u32 = 160;
/// Symbols correlated with the start of segment 3 to find it, and the history kept for that.
const WINDOW: u32 = 48;
const RING: usize = 64;
/// Scrambled ones sent after the data.
const TAIL: u32 = 48;
/// Transmit pulse: root-raised-cosine roll-off and span.
const ROLLOFF: f32 = 0.25;
/// Equalizer length in T/2 taps (16 symbols): a line at the M.1020 limits delays the band
/// edges 3–4 ms (7–10 symbols) behind the band centre, more than the default 12-symbol
/// span can undo.
const EQ_TAPS: usize = 32;
/// Timing loop bandwidth for the first [`DATA_TIMING_SETTLE`] data symbols (fraction of the
/// baud rate; the loop has an integrator): wide enough for the integrator to learn a clock
/// drift in about a second. At [`DATA_TIMING_BW`] from the start it learnt too slowly, and
/// the receiver lost the signal through `long-haul` at +100 ppm and on a clean line at
/// ±300 ppm.
const DATA_TIMING_BW_LEARN: f32 = 0.001;
/// Data symbols after which the timing loop narrows to [`DATA_TIMING_BW`] and its detector
/// goes back to the matched filter alone. Half as many left 10–23 errors in 192 k bits
/// through `long-haul` at ±100 ppm.
const DATA_TIMING_SETTLE: u32 = 2400;
/// Timing loop bandwidth on data once the drift is learnt. Narrow: through band-edge loss
/// Gardner's detector is weak and noisy, and a wider loop lets its integrator wander off
/// (seen drifting 140 ppm through `long-haul`).
const DATA_TIMING_BW: f32 = 0.0005;
/// Share of the equalized samples in the timing detector while the drift is learnt (see
/// `QamDemod::time_on_equalizer`): they have back the band edges the line took, so the
/// detector stays strong. On the matched filter alone (at 0.001 throughout) `long-haul` at
/// ±100 ppm cost 10–20 bit errors at 9600 bit/s while the integrator learnt the drift; on
/// the equalized samples alone the sampling phase settled where `m1020-limit` costs 5 dB.
const DATA_TIMING_EQ_WEIGHT: f32 = 0.15;
/// Equalizer step for segment 3's first 64 symbols. Each mode of the LMS converges at a rate
/// proportional to the line's power at its frequency, so band edges 6–10 dB down need the
/// largest step that stays stable and quiet (normalised LMS, limit 2) to converge within
/// segment 3's 384 symbols.
const EQ_STEP_TRAIN_FAST: f32 = 1.0;
/// Equalizer step for the rest of segment 3.
const EQ_STEP_TRAIN: f32 = 0.8;
/// Passes over the recorded segment 3 once it has ended, and their step (see
/// `QamDemod::replay_training`). Through `m1020-limit` the band edges' modes are still far
/// from converged after segment 3, and 113–142 of 200 trainings at 9600 bit/s made errors in
/// their first 4800 bits; two passes at 0.5 left 25–32, with [`EQ_STEP_DATA_LEARN`] 1–2
/// (one pass: 4–10).
const REPLAY_PASSES: u32 = 2;
/// Step of those passes (normalised LMS).
const REPLAY_STEP: f32 = 0.5;
/// Equalizer step on data while the timing loop learns the drift (the first
/// [`DATA_TIMING_SETTLE`] symbols): that loop moves the sampling phase, and at
/// [`EQ_STEP_DATA`] the equalizer lagged it into bit errors through `m1020-limit`.
const EQ_STEP_DATA_LEARN: f32 = 0.15;
/// Equalizer step on data once the drift is learnt.
const EQ_STEP_DATA: f32 = 0.03;
/// Transmit pulse span in symbols. Against a 12-symbol pulse this one puts 8 dB less power
/// outside 200–3200 Hz (−38 dB instead of −30 dB), and its signal comes through G.711 A-law
/// clean to spandsp's receiver, where the shorter pulse gave rare isolated symbol errors.
const SPAN: usize = 24;

/// Phase change in units of 45° for Q2 Q3 Q4 (index = Q2·4 + Q3·2 + Q4), V.29 table 1.
const PHASE_CHANGE: [u8; 8] = [1, 0, 2, 3, 6, 7, 5, 4];
/// The inverse: Q2 Q3 Q4 for a phase change of k·45°.
const TRIBIT_OF_CHANGE: [u8; 8] = [1, 0, 2, 3, 7, 6, 4, 5];

fn check_rate(rate: u32) -> Result<(), Error> {
    if RATES.contains(&rate) {
        Ok(())
    } else {
        Err(Error::UnsupportedRate { modem: "v29", rate })
    }
}

fn bits_per_symbol(rate: u32) -> u32 {
    rate / BAUD
}

/// The signal element of absolute phase `phase`·45° and amplitude bit `q1`.
fn point(phase: u8, q1: bool) -> Complex32 {
    const AXIS: [(f32, f32); 4] = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)];
    const DIAG: [(f32, f32); 4] = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)];
    let p = phase as usize & 7;
    if p.is_multiple_of(2) {
        let a = if q1 { 5.0 } else { 3.0 };
        let (x, y) = AXIS[p / 2];
        Complex32::new(a * x, a * y)
    } else {
        let a = if q1 { 3.0 } else { 1.0 };
        let (x, y) = DIAG[p / 2];
        Complex32::new(a * x, a * y)
    }
}

/// The data points of `rate` as (point, absolute phase, Q1), and how many there are.
fn constellation(rate: u32) -> ([(Complex32, u8, bool); 16], usize) {
    let mut pts = [(Complex32::new(0.0, 0.0), 0u8, false); 16];
    let mut n = 0;
    for phase in 0..8u8 {
        for q1 in [false, true] {
            let used = match rate {
                9600 => true,
                7200 => !q1,
                _ => !q1 && phase.is_multiple_of(2),
            };
            if used {
                pts[n] = (point(phase, q1), phase, q1);
                n += 1;
            }
        }
    }
    (pts, n)
}

/// Mean |a|² of the data constellation (the training segments have the same mean power).
fn mean_power(rate: u32) -> f32 {
    match rate {
        9600 => 13.5,
        7200 => 5.5,
        _ => 9.0,
    }
}

/// Segment-2 element B, segment-3 element D and D's absolute phase (units of 45°).
fn training_points(rate: u32) -> (Complex32, Complex32, u8) {
    match rate {
        9600 => (point(7, true), point(3, true), 3),
        7200 => (point(7, false), point(3, false), 3),
        _ => (point(6, false), point(2, false), 2),
    }
}

const POINT_A: Complex32 = Complex32::new(-3.0, 0.0);
const POINT_C: Complex32 = Complex32::new(3.0, 0.0);

/// The segment-3 sequence generator, 1 + x⁻⁶ + x⁻⁷, started from 0101010: the seven
/// initial register bits come out first, then each bit is the sum of those six and seven
/// places before it.
#[derive(Debug, Clone)]
struct ConditioningSequence {
    /// The last seven outputs, newest in bit 0.
    hist: u8,
    n: u32,
}

impl ConditioningSequence {
    const INIT: [bool; 7] = [false, true, false, true, false, true, false];

    fn new() -> Self {
        ConditioningSequence { hist: 0, n: 0 }
    }

    fn next_bit(&mut self) -> bool {
        let bit = if (self.n as usize) < Self::INIT.len() {
            Self::INIT[self.n as usize] as u8
        } else {
            ((self.hist >> 5) ^ (self.hist >> 6)) & 1
        };
        self.n += 1;
        self.hist = ((self.hist << 1) | bit) & 0x7f;
        bit != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxStage {
    Silence,
    Alternation,
    Conditioning,
    Data,
    Tail,
    Flush,
    Done,
}

/// Produces the symbol stream: training, data, tail.
#[derive(Debug, Clone)]
struct TxFramer {
    rate: u32,
    stage: TxStage,
    count: u32,
    cond: ConditioningSequence,
    scrambler: GroupScrambler,
    phase: u8,

    data_ended: bool,
    /// Zero symbols that let the pulse die away: its span.
    flush: u32,
}

impl TxFramer {
    /// The next signal element from `src`'s data, or ones when `None`: scrambled, then Q1
    /// (9600 only) and Q2 Q3 Q4 in line order. The element is given as its index in
    /// `points`.
    #[inline]
    fn data_symbol(&mut self, src: Option<&mut dyn BitSource>) -> Pull {
        let n = bits_per_symbol(self.rate);
        let all = (1u32 << n) - 1;
        let raw = match src {
            Some(src) => {
                let (bits, got) = src.next_bits(n);
                if got < n {
                    // The data ended: the rest of the symbol is ones.
                    self.data_ended = true;
                }
                bits | (all & !((1u32 << got) - 1))
            }
            None => all,
        };
        let line = self.scrambler.scramble_group(raw, n);
        let (q1, tribit) = match n {
            4 => (
                line & 1 != 0,
                (line & 2) << 1 | (line & 4) >> 1 | (line & 8) >> 3,
            ),
            3 => (false, (line & 1) << 2 | (line & 2) | (line & 4) >> 2),
            _ => {
                let (q2, q3) = (line & 1, (line >> 1) & 1);
                (false, q2 << 2 | q3 << 1 | (!(q2 ^ q3) & 1))
            }
        };
        self.phase = (self.phase + PHASE_CHANGE[tribit as usize]) & 7;
        Pull::Point(self.phase << 1 | q1 as u8)
    }

    fn next_symbol(&mut self, src: &mut dyn BitSource) -> Pull {
        let zero = Pull::Symbol(Complex32::new(0.0, 0.0));
        loop {
            match self.stage {
                TxStage::Silence if self.count < SEG1 => {
                    self.count += 1;
                    return zero;
                }
                TxStage::Alternation if self.count < SEG2 => {
                    self.count += 1;
                    return Pull::Symbol(if self.count % 2 == 1 {
                        POINT_A
                    } else {
                        training_points(self.rate).0
                    });
                }
                TxStage::Conditioning if self.count < SEG3 => {
                    self.count += 1;
                    let (_, d, d_phase) = training_points(self.rate);
                    return Pull::Symbol(if self.cond.next_bit() {
                        self.phase = d_phase;
                        d
                    } else {
                        self.phase = 0;
                        POINT_C
                    });
                }
                TxStage::Data => {
                    // Segment 4 (scrambled ones) is the first SEG4 symbols of this stage.
                    let in_seg4 = self.count < SEG4;
                    self.count += 1;
                    if in_seg4 {
                        return self.data_symbol(None);
                    }
                    if !self.data_ended {
                        let s = self.data_symbol(Some(&mut *src));
                        if self.data_ended {
                            self.stage = TxStage::Tail;
                            self.count = 0;
                        }
                        return s;
                    }
                    self.stage = TxStage::Tail;
                    self.count = 0;
                }
                TxStage::Tail if self.count < TAIL => {
                    self.count += 1;
                    return self.data_symbol(None);
                }
                TxStage::Flush if self.count < self.flush => {
                    self.count += 1;
                    return zero;
                }
                TxStage::Done => return zero,
                _ => {
                    self.stage = match self.stage {
                        TxStage::Silence => TxStage::Alternation,
                        TxStage::Alternation => TxStage::Conditioning,
                        TxStage::Conditioning => TxStage::Data,
                        TxStage::Tail => TxStage::Flush,
                        _ => TxStage::Done,
                    };
                    self.count = 0;
                }
            }
        }
    }
}

/// The V.29 modulator.
#[derive(Debug, Clone)]
pub struct V29Tx {
    shaper: BlockShaper,
    framer: TxFramer,
}

impl V29Tx {
    /// A transmitter at `cfg.rate` (9600, 7200 or 4800) and `cfg.level_dbm0`. V.29 has no
    /// short training, so `cfg.short_train` is ignored.
    pub fn new(cfg: &TxConfig) -> Result<Self, Error> {
        Self::with_pulse_span(cfg, SPAN)
    }

    /// The same transmitter with a transmit pulse `span` symbols long (even, at least 2)
    /// instead of the standard one: for measuring what the pulse length does to receivers.
    pub fn with_pulse_span(cfg: &TxConfig, span: usize) -> Result<Self, Error> {
        check_rate(cfg.rate)?;
        if span < 2 || !span.is_multiple_of(2) {
            return Err(Error::InvalidConfig(format!("pulse span {span} symbols")));
        }
        if !(-60.0..=3.0).contains(&cfg.level_dbm0) {
            return Err(Error::InvalidConfig(format!(
                "transmit level {} dBm0",
                cfg.level_dbm0
            )));
        }
        let mut shaper = BlockShaper::new(BAUD, CARRIER_HZ as u32, ROLLOFF, span);
        // Data elements go to the shaper as indices `phase << 1 | q1`.
        let points: [Complex32; 16] = std::array::from_fn(|i| point((i >> 1) as u8, i & 1 != 0));
        shaper.set_points(&points);
        shaper.set_level(cfg.level_dbm0, mean_power(cfg.rate));
        Ok(V29Tx {
            shaper,
            framer: TxFramer {
                rate: cfg.rate,
                stage: TxStage::Silence,
                count: 0,
                cond: ConditioningSequence::new(),
                scrambler: GroupScrambler::new(TAPS_V17_V29),
                phase: 0,
                data_ended: false,
                flush: span as u32,
            },
        })
    }
}

impl Transmitter for V29Tx {
    fn fill(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        let framer = &mut self.framer;
        self.shaper.fill(out, || {
            let a = framer.next_symbol(src);
            if framer.stage == TxStage::Done {
                // The pulse has died away: this sample is silence and not sent.
                Pull::End
            } else {
                a
            }
        })
    }

    fn is_finished(&self) -> bool {
        self.framer.stage == TxStage::Done
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxStage {
    /// No carrier.
    Idle,
    /// Carrier present, looking for the segment-2 alternation.
    Search,
    /// Alternation found (carrier offset preset from it); waiting for segment 3 by
    /// correlation.
    Alternation,
    /// Training on the known segment-3 sequence.
    Conditioning,
    /// Segment 4: decision-directed, checking the descrambled ones.
    Ones,
    /// Delivering data.
    Data,
}

/// The V.29 demodulator.
#[derive(Debug, Clone)]
pub struct V29Rx {
    rate: u32,
    short_train: bool,
    core: QamDemod,
    carrier: CarrierDetect,
    stage: RxStage,
    /// Symbols spent in the current stage.
    count: u32,
    /// Whether a failure was already reported for the current carrier.
    failed: bool,
    trained_once: bool,
    point_d: Complex32,
    d_phase: u8,
    /// The data constellation of this rate: (point, absolute phase, Q1).
    points: [(Complex32, u8, bool); 16],
    n_points: usize,
    /// Half the weakest data point's energy: the equalized signal's average falls below it
    /// when the signal ends.
    end_energy: f32,
    // Alternation detector, on the raw on-time and mid-point samples (y, m) of the last two
    // symbols: smoothed |y_k − y_{k−1}|² + |m_k − m_{k−1}|², the same two symbols apart,
    // and y_k·conj(y_{k−2}) + m_k·conj(m_{k−2}), whose angle is two symbols' worth of
    // carrier offset; and the two parts of the timing phase (see `symbol`).
    hist: [(Complex32, Complex32); 2],
    diff1: f32,
    diff2: f32,
    turn2: Complex32,
    timing_cos: f32,
    timing_sin: f32,
    run: u32,
    /// Symbols since the alternation was found, kept for the segment-3 correlation.
    ring: [Complex32; RING],
    /// Best segment-3 correlation so far: (normalised magnitude, symbol count at the end of
    /// its window, value).
    best: (f32, u32, Complex32),
    /// The segment-3 sequence, true for D.
    cond: [bool; SEG3 as usize],
    /// Index in segment 3 where the equalizer was first aligned.
    aligned_at: u32,
    phase: u8,
    descrambler: GroupDescrambler,
    ones: u32,
    seg4_bits: u32,
    energy: f32,
    /// Samples until carrier-up is announced, and whether it has been.
    up_pending: u32,
    announced: bool,
    /// The quality when the last data ended, reported until the next training.
    held: Option<Quality>,
    /// Quality snapshots taken every 64 data symbols: the older one predates the fading
    /// tail that ends the data, so it is the one held.
    snapshots: [Quality; 2],
}

impl V29Rx {
    /// A receiver for `cfg.rate` (9600, 7200 or 4800).
    pub fn new(cfg: &RxConfig) -> Result<Self, Error> {
        check_rate(cfg.rate)?;
        let mut dc = DemodConfig::new(BAUD, CARRIER_HZ, mean_power(cfg.rate));
        dc.rolloff = ROLLOFF;
        dc.eq_taps = EQ_TAPS;
        let (_, d, d_phase) = training_points(cfg.rate);
        Ok(V29Rx {
            rate: cfg.rate,
            short_train: cfg.short_train,
            core: {
                let mut core = QamDemod::new(&dc);
                core.reserve_training_record(SEG3 as usize);
                core
            },
            carrier: CarrierDetect::new(40.0),
            stage: RxStage::Idle,
            count: 0,
            failed: false,
            trained_once: false,
            point_d: d,
            d_phase,
            points: constellation(cfg.rate).0,
            n_points: constellation(cfg.rate).1,
            end_energy: {
                let (pts, n) = constellation(cfg.rate);
                0.5 * pts[..n]
                    .iter()
                    .map(|p| p.0.norm_sqr())
                    .fold(f32::MAX, f32::min)
            },
            hist: [(Complex32::new(0.0, 0.0), Complex32::new(0.0, 0.0)); 2],
            diff1: 0.0,
            diff2: 0.0,
            turn2: Complex32::new(0.0, 0.0),
            timing_cos: 0.0,
            timing_sin: 0.0,
            run: 0,
            ring: [Complex32::new(0.0, 0.0); RING],
            best: (0.0, 0, Complex32::new(0.0, 0.0)),
            cond: {
                let mut seq = ConditioningSequence::new();
                let mut c = [false; SEG3 as usize];
                c.iter_mut().for_each(|b| *b = seq.next_bit());
                c
            },
            aligned_at: 0,
            phase: 0,
            descrambler: GroupDescrambler::new(),
            ones: 0,
            seg4_bits: 0,
            energy: 0.0,
            up_pending: 0,
            announced: false,
            held: None,
            snapshots: [Quality::default(); 2],
        })
    }

    /// The rate this receiver expects.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The receiver core (for constellation displays and diagnostics).
    pub fn core(&self) -> &QamDemod {
        &self.core
    }

    fn start_search(&mut self) {
        if self.short_train && self.trained_once {
            self.core.restart_signal();
            self.core.restore();
            self.core.freeze_agc(false);
        } else {
            self.core.reset();
        }
        self.stage = RxStage::Search;
        self.count = 0;
        self.hist = [(Complex32::new(0.0, 0.0), Complex32::new(0.0, 0.0)); 2];
        self.diff1 = 0.0;
        self.diff2 = 0.0;
        self.turn2 = Complex32::new(0.0, 0.0);
        self.timing_cos = 0.0;
        self.timing_sin = 0.0;
        self.run = 0;
    }

    fn fail(&mut self, sink: &mut dyn RxSink) {
        if !self.failed {
            self.failed = true;
            sink.event(RxEvent::TrainingFailed);
        }
        self.start_search();
    }

    /// The nearest data point: (absolute phase, Q1, point).
    #[inline]
    fn slice(&self, y: Complex32) -> (u8, bool, Complex32) {
        let mut best = 0;
        let mut bd = f32::MAX;
        for (i, &(p, _, _)) in self.points[..self.n_points].iter().enumerate() {
            let d = (y - p).norm_sqr();
            if d < bd {
                bd = d;
                best = i;
            }
        }
        let (p, phase, q1) = self.points[best];
        (phase, q1, p)
    }

    /// Decides a data symbol, adapts to it and returns the descrambled bits (LSB first)
    /// and their count.
    #[inline(always)]
    fn data_symbol<const AVX: bool>(&mut self, y: Complex32) -> (u8, u32) {
        let (phase, q1, p) = self.slice(y);
        self.core.adapt_v::<AVX>(p);
        let change = phase.wrapping_sub(self.phase) & 7;
        self.phase = phase;
        let tribit = TRIBIT_OF_CHANGE[change as usize];
        // Q2 Q3 Q4 in sending order (the tribit has Q2 on top), after Q1 at 9600 bit/s.
        let q234 = (((tribit & 4) >> 2) | (tribit & 2) | ((tribit & 1) << 2)) as u32;
        let (raw, n) = match self.rate {
            9600 => (q1 as u32 | (q234 << 1), 4),
            7200 => (q234, 3),
            _ => (q234 & 3, 2),
        };
        (self.descrambler.descramble(raw, n) as u8, n)
    }

    #[inline(always)]
    fn symbol<const AVX: bool>(&mut self, y: Complex32, sink: &mut dyn RxSink) {
        self.count += 1;
        match self.stage {
            RxStage::Idle => self.core.advance(),
            RxStage::Search => {
                self.core.advance();
                let p = self.core.config().symbol_power;
                // Both half-symbol samples of every symbol: the alternation shows in their
                // sum whatever the timing phase, even where the loop samples its zero
                // crossings (Gardner's unstable point, which it leaves only slowly).
                let cur = (self.core.raw_symbol(), self.core.raw_midpoint());
                let [prev, prev2] = self.hist;
                let (dy, dm) = (cur.0 - prev.0, cur.1 - prev.1);
                let step1 = dy.norm_sqr() + dm.norm_sqr();
                let step2 = (cur.0 - prev2.0).norm_sqr() + (cur.1 - prev2.1).norm_sqr();
                self.diff1 += (step1 - self.diff1) * 0.125;
                self.diff2 += (step2 - self.diff2) * 0.125;
                self.turn2 +=
                    (cur.0 * prev2.0.conj() + cur.1 * prev2.1.conj() - self.turn2) * 0.125;
                self.timing_cos += (dy.norm_sqr() - dm.norm_sqr() - self.timing_cos) * 0.125;
                self.timing_sin += ((dy * dm.conj()).re - self.timing_sin) * 0.125;
                self.hist = [cur, prev];
                if self.diff1 > 0.5 * p && self.diff2 < 0.3 * self.diff1 {
                    self.run += 1;
                } else {
                    self.run = 0;
                }
                if self.run >= 16 {
                    // A and B do not cancel: their mean is a line at the carrier. A tone
                    // 1200 Hz off the carrier also flips sign every symbol, but has no mean.
                    let sum = (cur.0 + prev.0).norm_sqr() + (cur.1 + prev.1).norm_sqr();
                    if sum < 0.03 * step1 {
                        self.run = 0;
                        return;
                    }
                    // The alternation is a tone at half the symbol rate, whose steps give
                    // the sampling phase. Move straight to it: the Gardner loop then
                    // starts at its stable point instead of having to find it within the
                    // 128 symbols of segment 2.
                    let late = half_rate_tone_lateness(
                        self.timing_cos,
                        self.timing_sin,
                        SAMPLES_PER_SYMBOL,
                    );
                    self.core.shift_timing(-late);
                    // The alternation repeats every two symbols: what it turns in two is
                    // the carrier offset. Take it out now so segment 3 correlates cleanly.
                    let hz = self.turn2.arg() / 2.0 * BAUD as f32 / std::f32::consts::TAU;
                    self.core.set_carrier_offset_hz(hz);
                    self.stage = RxStage::Alternation;
                    self.count = 0;
                    self.best = (0.0, 0, Complex32::new(0.0, 0.0));
                } else if self.count > 600 {
                    // No training in sight: report once, keep looking with a fresh core.
                    self.fail(sink);
                }
            }
            RxStage::Alternation => {
                // Wait for segment 3 and find where it starts by correlating the last WINDOW
                // symbols with its known start. This needs neither a trained equalizer nor
                // to know which alternation element is A, so line distortion does not fool
                // it; its peak also gives the channel's gain and phase.
                self.core.advance();
                self.ring[self.count as usize % RING] = y;
                if self.count >= WINDOW {
                    let (rho, r) = self.correlate();
                    if rho > self.best.0 {
                        self.best = (rho, self.count, r);
                    }
                }
                if self.best.0 > 0.55 && self.count >= self.best.1 + 4 {
                    // Symbol `best.1` was segment 3's element WINDOW − 1.
                    let index = WINDOW - 1 + (self.count - self.best.1);
                    let half_gap = (POINT_C - self.point_d) * 0.5;
                    let pn = &self.cond[..WINDOW as usize];
                    let mean =
                        pn.iter().map(|&d| if d { -1.0 } else { 1.0 }).sum::<f32>() / WINDOW as f32;
                    let observed = self.best.2 / (WINDOW as f32 * (1.0 - mean * mean));
                    self.core.align(observed, half_gap);
                    self.core.set_eq_step(EQ_STEP_TRAIN_FAST);
                    self.core.record_training();
                    self.stage = RxStage::Conditioning;
                    self.aligned_at = index;
                    // The next symbol is element index + 1; `symbol` counts it in first.
                    self.count = index + 1;
                } else if self.count > SEG2 + 200 {
                    self.fail(sink);
                }
            }
            RxStage::Conditioning => self.conditioning::<AVX>(),
            RxStage::Ones => {
                let (bits, n) = self.data_symbol::<AVX>(y);
                for i in 0..n {
                    self.seg4_bits += 1;
                    // The descrambler has resynchronised after 23 bits.
                    if self.seg4_bits > 24 && bits & (1 << i) != 0 {
                        self.ones += 1;
                    }
                }
                if self.count >= SEG4 {
                    let checked = self.seg4_bits - 24;
                    let snr = self.core.snr_db();
                    if self.ones * 10 >= checked * 9 && snr > 8.0 {
                        self.core.freeze_agc(true);
                        self.core.set_eq_step(EQ_STEP_DATA_LEARN);
                        self.core.set_carrier_bandwidth(0.004);
                        self.core.set_timing_bandwidth(DATA_TIMING_BW_LEARN);
                        self.core.use_timing_integrator(true);
                        self.core.restart_clock_estimate();
                        self.core.time_on_equalizer(DATA_TIMING_EQ_WEIGHT);
                        self.core.save();
                        self.trained_once = true;
                        self.stage = RxStage::Data;
                        self.held = None;
                        self.count = 0;
                        self.snapshots = [self.live_quality(); 2];
                        self.energy = self.core.config().symbol_power;
                        sink.event(RxEvent::TrainingSucceeded {
                            rate: self.rate,
                            snr_db: snr,
                        });
                    } else {
                        self.fail(sink);
                    }
                }
            }
            RxStage::Data => {
                self.energy += (y.norm_sqr() - self.energy) * 0.125;
                // Below half the weakest point's energy, averaged over about eight symbols,
                // no run of data can take it there, while line noise stays below it down
                // to the lowest SNR each rate works at.
                if self.energy < self.end_energy {
                    // The signal has ended: no more bits until a new training.
                    self.hold_quality();
                    self.failed = true;
                    self.start_search();
                    return;
                }
                if self.count == DATA_TIMING_SETTLE {
                    // The drift is learnt: narrow, and back to the matched filter's detector
                    // alone (the equalized mid-point costs an equalizer output a symbol).
                    self.core.set_timing_bandwidth(DATA_TIMING_BW);
                    self.core.time_on_equalizer(0.0);
                    self.core.set_eq_step(EQ_STEP_DATA);
                }
                let (bits, n) = self.data_symbol::<AVX>(y);
                sink.bits(bits as u32, n);
                if self.count.is_multiple_of(64) {
                    self.snapshots = [self.snapshots[1], self.live_quality()];
                }
            }
        }
    }

    /// Sums the last WINDOW symbols (mean removed) weighted by the start of segment 3
    /// (+1 for C, −1 for D): (magnitude normalised to 1 for a perfect match, value).
    fn correlate(&self) -> (f32, Complex32) {
        let first = self.count + 1 - WINDOW;
        let mut sum = Complex32::new(0.0, 0.0);
        let mut weighted = Complex32::new(0.0, 0.0);
        let mut energy = 0.0;
        let mut pn_sum = 0.0;
        for (i, &d) in self.cond[..WINDOW as usize].iter().enumerate() {
            let y = self.ring[(first + i as u32) as usize % RING];
            let w = if d { -1.0 } else { 1.0 };
            sum += y;
            weighted += y * w;
            energy += y.norm_sqr();
            pn_sum += w;
        }
        let n = WINDOW as f32;
        let mean = sum / n;
        let r = weighted - mean * pn_sum;
        let centred_energy = energy - n * mean.norm_sqr();
        if centred_energy <= 1e-9 {
            return (0.0, r);
        }
        (r.norm() / (centred_energy * n).sqrt(), r)
    }

    /// Trains on the known segment-3 element.
    #[inline(always)]
    fn conditioning<const AVX: bool>(&mut self) {
        let index = self.count - 1;
        let is_d = self.cond[index as usize];
        let target = if is_d { self.point_d } else { POINT_C };
        self.core.record_symbol(target);
        self.core.adapt_v::<AVX>(target);
        if index == self.aligned_at + 64 {
            self.core.set_eq_step(EQ_STEP_TRAIN);
            self.core.set_carrier_bandwidth(0.01);
        }
        if self.count == SEG3 {
            self.phase = if is_d { self.d_phase } else { 0 };
            self.stage = RxStage::Ones;
            self.count = 0;
            self.ones = 0;
            self.seg4_bits = 0;
            self.core.restart_snr_estimate();
            self.core.replay_training(REPLAY_PASSES, REPLAY_STEP);
            self.core.set_eq_step(0.1);
        }
    }
}

impl crate::simd::VectorRx for V29Rx {
    /// The same as feeding the carrier detector, the announcement countdown and the
    /// demodulator sample by sample, in runs: the detector scans ahead to its next change
    /// (or to the sample where the announcement falls due, or to a symbol that reads its
    /// level), the samples before it go to the demodulator in one go, then the last sample
    /// of the run is handled as a single one.
    #[inline(always)]
    fn process_v<const AVX: bool>(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        self.core.new_input();
        let mut rest = samples;
        while !rest.is_empty() {
            let mut limit = rest.len();
            if self.up_pending > 0 {
                limit = limit.min(self.up_pending as usize);
            }
            if self.next_symbol_reads_level() {
                // Its quality snapshot reads the detector's level at that very sample.
                limit = limit.min(self.core.samples_to_symbol());
            }
            let before = self.carrier.clone();
            let (n, change) = self.carrier.scan(&rest[..limit]);
            // Before the run's last sample the announcement is not due (n <= up_pending).
            let body = n - 1;
            let taken = self.demodulate::<AVX>(&rest[..body], sink);
            if self.up_pending > 0 {
                self.up_pending -= taken as u32;
            }
            if taken < body {
                // The next symbol reads the level: back to where the demodulator stopped
                // (the same samples, so no change), and on in a run that ends there.
                self.carrier = before;
                self.carrier.scan(&rest[..taken]);
                rest = &rest[taken..];
                continue;
            }
            match change {
                Some(true) => {
                    // Announced once the level has settled, so the event carries it.
                    self.up_pending = CARRIER_SETTLE;
                    self.announced = false;
                    self.failed = false;
                    self.start_search();
                }
                Some(false) => {
                    if self.announced {
                        if self.stage == RxStage::Data {
                            self.hold_quality();
                        } else if !self.failed {
                            sink.event(RxEvent::TrainingFailed);
                        }
                        sink.event(RxEvent::CarrierDown);
                    }
                    self.up_pending = 0;
                    self.stage = RxStage::Idle;
                }
                None => {}
            }
            if self.up_pending > 0 {
                self.up_pending -= 1;
                if self.up_pending == 0 {
                    self.announced = true;
                    sink.event(RxEvent::CarrierUp {
                        level_dbm0: self.carrier.dbm0(),
                    });
                }
            }
            self.demodulate::<AVX>(&rest[body..n], sink);
            rest = &rest[n..];
        }
    }
}

impl Receiver for V29Rx {
    fn last_symbol(&self) -> Option<(f32, f32)> {
        let s = self.core.symbol();
        Some((s.re, s.im))
    }

    fn process(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        crate::simd::process(self, samples, sink);
    }

    fn quality(&self) -> Quality {
        if self.stage != RxStage::Data
            && let Some(q) = self.held
        {
            return q;
        }
        self.live_quality()
    }

    fn restart(&mut self, cfg: &RxConfig) -> Result<(), Error> {
        check_rate(cfg.rate)?;
        if cfg.rate != self.rate {
            *self = V29Rx::new(cfg)?;
            return Ok(());
        }
        self.short_train = cfg.short_train;
        self.carrier.reset();
        self.up_pending = 0;
        self.announced = false;
        self.stage = RxStage::Idle;
        self.failed = false;
        self.held = None;
        Ok(())
    }
}

impl V29Rx {
    /// Whether the next symbol takes a quality snapshot (which reads the carrier detector's
    /// level): the end of segment 4, and every 64th data symbol.
    #[inline]
    fn next_symbol_reads_level(&self) -> bool {
        match self.stage {
            RxStage::Ones => self.count + 1 >= SEG4,
            RxStage::Data => (self.count + 1).is_multiple_of(64),
            _ => false,
        }
    }

    /// Runs the demodulator over samples during which neither the carrier nor its
    /// announcement changes. Returns how many were taken: all of them, unless a symbol
    /// left the next one reading the carrier detector's level (the caller then brings the
    /// detector back to that sample).
    #[inline(always)]
    fn demodulate<const AVX: bool>(&mut self, mut samples: &[i16], sink: &mut dyn RxSink) -> usize {
        let total = samples.len();
        if self.stage == RxStage::Idle {
            return total;
        }
        while !samples.is_empty() {
            let (n, symbol) = self.core.push_block_v::<AVX>(samples);
            samples = &samples[n..];
            if let Some(y) = symbol {
                self.symbol::<AVX>(y, sink);
                if self.next_symbol_reads_level() && !samples.is_empty() {
                    return total - samples.len();
                }
            }
        }
        total
    }

    fn hold_quality(&mut self) {
        self.held = Some(Quality {
            trained: false,
            ..self.snapshots[0]
        });
    }

    fn live_quality(&self) -> Quality {
        Quality {
            level_dbm0: self.carrier.dbm0(),
            snr_db: self.core.snr_db(),
            carrier_offset_hz: self.core.carrier_offset_hz(),
            timing_offset_ppm: self.core.timing_offset_ppm(),
            trained: self.stage == RxStage::Data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_tables_are_inverse() {
        for t in 0..8u8 {
            assert_eq!(TRIBIT_OF_CHANGE[PHASE_CHANGE[t as usize] as usize], t);
        }
    }

    #[test]
    fn constellation_sizes() {
        assert_eq!(constellation(9600).1, 16);
        assert_eq!(constellation(7200).1, 8);
        assert_eq!(constellation(4800).1, 4);
    }

    #[test]
    fn constellation_powers() {
        let p16: f32 = (0..8)
            .flat_map(|p| [point(p, false), point(p, true)])
            .map(|c| c.norm_sqr())
            .sum::<f32>()
            / 16.0;
        assert!((p16 - mean_power(9600)).abs() < 1e-4);
        let p8: f32 = (0..8).map(|p| point(p, false).norm_sqr()).sum::<f32>() / 8.0;
        assert!((p8 - mean_power(7200)).abs() < 1e-4);
        assert_eq!(point(4, false), POINT_A);
        assert_eq!(point(0, false), POINT_C);
        assert_eq!(point(7, true), Complex32::new(3.0, -3.0));
    }

    #[test]
    fn conditioning_sequence_has_period_127() {
        let mut s = ConditioningSequence::new();
        let first: Vec<bool> = (0..127).map(|_| s.next_bit()).collect();
        let again: Vec<bool> = (0..127).map(|_| s.next_bit()).collect();
        assert_eq!(first, again);
        assert_eq!(first.iter().filter(|&&b| b).count(), 64);
    }
}
