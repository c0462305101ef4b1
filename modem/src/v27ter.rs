//! V.27ter: 4800 bit/s (1600 baud, 8-phase) and 2400 bit/s (1200 baud, 4-phase) differential
//! PSK on an 1800 Hz carrier, as the T.30 fall-back modem.
//!
//! # Line signal
//! Data bits are scrambled (1 + x⁻⁶ + x⁻⁷ with the repetitive-pattern guard, see
//! [`GuardedScrambler`]) and taken three at a time (4800 bit/s) or two at a time (2400 bit/s),
//! the first bit in time leftmost. Each group is sent as a change of carrier phase relative to
//! the previous symbol, counter-clockwise:
//!
//! | tribit | 001 | 000 | 010 | 011 | 111 | 110 | 100 | 101 |
//! |---|---|---|---|---|---|---|---|---|
//! | change | 0° | 45° | 90° | 135° | 180° | 225° | 270° | 315° |
//!
//! | dibit | 00 | 01 | 11 | 10 |
//! |---|---|---|---|---|
//! | change | 0° | 90° | 180° | 270° |
//!
//! Symbols are shaped with a root-raised-cosine pulse of 50 % roll-off, which puts the −3 dB
//! points of the spectrum at 1800 ± baud/2 Hz (1000/2600 Hz at 4800 bit/s, 1200/2400 Hz at
//! 2400 bit/s) as the recommendation asks.
//!
//! # Synchronising signals (training)
//! | segment | content | long | short |
//! |---|---|---|---|
//! | 2 | no transmitted energy | 20 ms | — |
//! | 3 | continuous 180° phase reversals | 50 symbols | 14 symbols |
//! | 4 | equaliser conditioning pattern (0°/180° changes) | 1074 symbols | 58 symbols |
//! | 5 | scrambled data ones | 8 symbols | 8 symbols |
//!
//! Segment 1 (the optional unmodulated carrier that protects against talker echo) is not sent.
//! The conditioning pattern is the scrambler run on data ones from the register state
//! 0011110 (x⁻¹ … x⁻⁷), clocked three times a symbol at both rates; the first bit of each
//! group selects 180° (one) or 0° (zero). The same symbol sequence is therefore used at both
//! rates, and a receiver knows it in advance ([`TrainingPattern`]).
//!
//! # Turn-off
//! When the [`BitSource`] ends, the last symbol is completed with ones, 20 ms of scrambled
//! ones follow, and then the pulse tail dies away.
//!
//! # Receiver
//! [`V27terRx`] runs on the shared core ([`crate::qam`]) with a 50 % roll-off matched filter.
//! Carrier detection uses the V.27ter thresholds (−43 dBm0 on, −48 dBm0 off). Training is
//! found from the segment 3/4 boundary, the equaliser is trained on the known conditioning
//! pattern, and data are decided in absolute phase and decoded differentially. Segment 5
//! only synchronises the descrambler: the first bit delivered is the first data bit. Bits
//! keep coming until the carrier drops, so a few tens of symbols after the end of the
//! signal (its closing ones, then noise) reach the sink, as with any V-series receiver. When
//! line noise above −48 dBm0 keeps the energy detector on, the receiver also ends the
//! reception (reporting `CarrierDown`) once the symbol power falls 6 dB below its trained
//! level, and then looks for a new training (reporting `CarrierUp` when it finds one).
//!
//! A short-train restart keeps the equaliser, gain and offsets of the last long training,
//! and reads its sampling phase from segment 3's first reversals (14 are too few for
//! Gardner's loop to leave its unstable point).
//! spandsp 0.0.6's V.27ter receiver, told to reuse its old training, still expects the long
//! sequence and does not train on the short one; its transmitter has no short training.

use crate::dsp::{BlockShaper, CarrierDetect, Complex32, Pull};
use crate::qam::{DemodConfig, QamDemod, half_rate_tone_lateness};
use crate::scrambler::TAPS_V27TER;
use crate::{
    BitSource, Error, ModemKind, Quality, Receiver, RxConfig, RxEvent, RxSink, Transmitter,
    TxConfig,
};

/// Carrier frequency, Hz.
pub const CARRIER_HZ: f32 = 1800.0;
/// Root-raised-cosine roll-off of the transmit (and matched receive) filter.
pub const ROLLOFF: f32 = 0.5;
/// Transmit pulse length in symbols.
const TX_SPAN: usize = 10;

/// Segment 2 (silence) of the long training, in samples (20 ms).
pub const LONG_SILENCE_SAMPLES: usize = 160;
/// Segment 3 (180° reversals), symbols, long training.
pub const LONG_SEG3_SYMBOLS: usize = 50;
/// Segment 4 (conditioning pattern), symbols, long training.
pub const LONG_SEG4_SYMBOLS: usize = 1074;
/// Reversals in a row from which a short training's search reads its sampling phase (of the
/// 14 in its segment 3).
const REVERSALS_FOR_TIMING: usize = 6;
/// Segment 3 (180° reversals), symbols, short training.
pub const SHORT_SEG3_SYMBOLS: usize = 14;
/// Segment 4 (conditioning pattern), symbols, short training.
pub const SHORT_SEG4_SYMBOLS: usize = 58;
/// Segment 5 (scrambled ones), symbols, both trainings.
pub const SEG5_SYMBOLS: usize = 8;
/// Scrambler register at the start of segment 4, x⁻¹ first: 0011110.
pub const SEG4_INITIAL_STATE: [bool; 7] = [false, false, true, true, true, true, false];

/// Consecutive line bits that may repeat one of the last 8th, 9th or 12th before the guard
/// inverts the next one.
const GUARD_RUN: u32 = 33;

/// The symbol rate for a bit rate.
pub fn baud(rate: u32) -> u32 {
    if rate == 4800 { 1600 } else { 1200 }
}

/// Bits carried by one symbol at a bit rate.
pub fn bits_per_symbol(rate: u32) -> usize {
    if rate == 4800 { 3 } else { 2 }
}

/// The phase change, in units of 45°, for a group of bits at `rate`. `bits` holds the group
/// with the first bit in time as the most significant.
pub fn phase_change(rate: u32, bits: u8) -> u8 {
    if rate == 4800 {
        // Index: tribit value (first bit = MSB).
        const TRI: [u8; 8] = [1, 0, 2, 3, 6, 7, 5, 4];
        TRI[(bits & 7) as usize]
    } else {
        const DI: [u8; 4] = [0, 2, 6, 4];
        DI[(bits & 3) as usize]
    }
}

/// The group of bits (first bit in time as MSB) for a phase change in units of 45°. At
/// 2400 bit/s the change is rounded down to a multiple of 90° first.
pub fn bits_for_change(rate: u32, change: u8) -> u8 {
    if rate == 4800 {
        const INV: [u8; 8] = [0b001, 0b000, 0b010, 0b011, 0b111, 0b110, 0b100, 0b101];
        INV[(change & 7) as usize]
    } else {
        const INV: [u8; 4] = [0b00, 0b01, 0b11, 0b10];
        INV[((change & 7) / 2) as usize]
    }
}

/// The V.27ter scrambler: 1 + x⁻⁶ + x⁻⁷ plus the guard against repetitive patterns.
///
/// The guard watches the line bits: a bit that equals at least one of the bits sent 8, 9 or
/// 12 bit times before extends a run; any other bit ends it. After a run of 33 the next
/// line bit is inverted and the run starts again. Periodic data of period 1, 2, 3, 4, 6, 8,
/// 9 or 12 bits can thus not lock the line into a short cycle. Because the decision depends
/// only on bits already on the line, [`GuardedDescrambler`] can mirror it exactly.
#[derive(Debug, Clone, Default)]
pub struct GuardedScrambler {
    /// Line bits, most recent in bit 0.
    reg: u32,
    run: u32,
}

#[inline]
fn repeats(reg: u32, bit: u32) -> bool {
    // Bit k-1 of `reg` is the line bit k periods ago.
    let b = bit & 1;
    (((reg >> 7) & 1) == b) | (((reg >> 8) & 1) == b) | (((reg >> 11) & 1) == b)
}

#[inline]
fn feedback(reg: u32) -> u32 {
    ((reg >> (TAPS_V27TER.0 - 1)) ^ (reg >> (TAPS_V27TER.1 - 1))) & 1
}

impl GuardedScrambler {
    /// A scrambler with a cleared register.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scrambles one data bit into one line bit.
    #[inline]
    pub fn scramble(&mut self, bit: bool) -> bool {
        // Without branches: the data bits would make them unpredictable.
        let flip = self.run >= GUARD_RUN;
        let out = (bit as u32 ^ feedback(self.reg)) ^ flip as u32;
        let counts = !flip & repeats(self.reg, out);
        self.run = if counts { self.run + 1 } else { 0 };
        self.reg = (self.reg << 1) | out;
        out != 0
    }

    /// Scrambles `n` (1 to 6) data bits, the first in time in bit 0, into line bits, the
    /// first in time in bit `n - 1` (the order [`phase_change`] reads them): the same as `n`
    /// calls of [`GuardedScrambler::scramble`]. The line bits of a group depend only on line
    /// bits at least 6 places back, so they are computed side by side; only a group that
    /// could reach the guard's run length goes bit by bit.
    #[inline]
    pub fn scramble_group(&mut self, bits: u32, n: u32) -> u32 {
        // The two group sizes of V.27ter get their own copy, with constant shifts.
        match n {
            3 => self.scramble_n::<3>(bits),
            2 => self.scramble_n::<2>(bits),
            _ => self.scramble_n_var(bits, n),
        }
    }

    #[inline(always)]
    fn scramble_n<const N: u32>(&mut self, bits: u32) -> u32 {
        self.scramble_n_var(bits, N)
    }

    #[inline(always)]
    fn scramble_n_var(&mut self, bits: u32, n: u32) -> u32 {
        assert!((1..=6).contains(&n), "group of {n} bits");
        if self.run + n > GUARD_RUN {
            let mut group = 0;
            for i in 0..n {
                group = (group << 1) | self.scramble((bits >> i) & 1 != 0) as u32;
            }
            return group;
        }
        let reg = self.reg;
        let mut group = 0u32;
        let mut repeated = 0u32;
        for i in 0..n {
            // Bit k-1 of `reg` shifted i places: the line bit k - i periods before this one.
            let out = ((bits >> i) ^ (reg >> (5 - i)) ^ (reg >> (6 - i))) & 1;
            group = (group << 1) | out;
            let rep = (((reg >> (7 - i)) & 1) == out)
                | (((reg >> (8 - i)) & 1) == out)
                | (((reg >> (11 - i)) & 1) == out);
            repeated |= (rep as u32) << i;
        }
        self.reg = (reg << n) | group;
        let broken = !repeated & ((1 << n) - 1);
        self.run = if broken == 0 {
            self.run + n
        } else {
            // The run is what follows the last bit that did not repeat.
            (broken << (32 - n)).leading_zeros()
        };
        group
    }

    /// Scrambles without the guard (the conditioning pattern of segment 4 is defined so).
    #[inline]
    pub fn scramble_unguarded(&mut self, bit: bool) -> bool {
        let out = bit as u32 ^ feedback(self.reg);
        self.reg = (self.reg << 1) | out;
        out != 0
    }

    /// Loads the register, `bits[0]` being x⁻¹, and restarts the guard.
    pub fn load(&mut self, bits: &[bool]) {
        self.reg = bits.iter().rev().fold(0, |acc, &b| (acc << 1) | b as u32);
        self.run = 0;
    }

    /// Restarts the guard's run count (at the start of segment 5).
    pub fn reset_guard(&mut self) {
        self.run = 0;
    }
}

/// The matching descrambler, guard included.
#[derive(Debug, Clone, Default)]
pub struct GuardedDescrambler {
    reg: u32,
    run: u32,
}

impl GuardedDescrambler {
    /// A descrambler with a cleared register; it locks after 12 line bits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Descrambles one line bit.
    #[inline]
    pub fn descramble(&mut self, line: bool) -> bool {
        let r = line as u32;
        // Without branches (on data the repeat test goes either way at random): after a
        // full run the scrambler inverted this line bit and the run restarts; otherwise a
        // repeat lengthens the run and anything else restarts it.
        let guard = (self.run >= GUARD_RUN) as u32;
        let out = r ^ feedback(self.reg) ^ guard;
        let lengthen = (guard == 0 && repeats(self.reg, r)) as u32;
        self.run = (self.run + 1) * lengthen;
        self.reg = (self.reg << 1) | r;
        out != 0
    }

    /// Descrambles `n` (1 to 6) line bits, the first in time in bit `n - 1` (as
    /// [`bits_for_change`] gives them), into data bits, the first in time in bit 0: the same
    /// as `n` calls of [`GuardedDescrambler::descramble`]. Every line bit is already known,
    /// so the feedback and the repeat tests are computed side by side; only a group that
    /// could reach the guard's run length goes bit by bit.
    #[inline]
    pub fn descramble_group(&mut self, line: u32, n: u32) -> u32 {
        match n {
            3 => self.descramble_n::<3>(line),
            2 => self.descramble_n::<2>(line),
            _ => self.descramble_n_var(line, n),
        }
    }

    #[inline(always)]
    fn descramble_n<const N: u32>(&mut self, line: u32) -> u32 {
        self.descramble_n_var(line, N)
    }

    #[inline(always)]
    fn descramble_n_var(&mut self, line: u32, n: u32) -> u32 {
        assert!((1..=6).contains(&n), "group of {n} bits");
        let line = line & ((1 << n) - 1);
        if self.run + n > GUARD_RUN {
            let mut out = 0;
            for k in 0..n {
                out |= (self.descramble((line >> (n - 1 - k)) & 1 != 0) as u32) << k;
            }
            return out;
        }
        // The register after the group: bit j is the line bit j periods before the latest.
        // Each line bit's data bit and repeat test read bits 6, 7 and 8, 9, 12 places up.
        let r = (self.reg << n) | line;
        let mask = (1 << n) - 1;
        let latest_first = (r ^ (r >> 6) ^ (r >> 7)) & mask;
        let differs = (r ^ (r >> 8)) & (r ^ (r >> 9)) & (r ^ (r >> 12));
        self.reg = r;
        self.run = if differs & mask == 0 {
            self.run + n
        } else {
            // The run is what follows the latest bit that did not repeat.
            (differs & mask).trailing_zeros()
        };
        // The first in time to bit 0.
        latest_first.reverse_bits() >> (32 - n)
    }
}

/// The known symbols of segments 3 and 4 as phase changes in units of 45° (0 or 4).
///
/// Both ends generate it: the transmitter to send it, a receiver to train its equaliser on
/// it. `segment3` reversals are followed by `segment4` conditioning symbols.
#[derive(Debug, Clone)]
pub struct TrainingPattern {
    segment3: usize,
    segment4: usize,
    index: usize,
    scrambler: GuardedScrambler,
}

impl TrainingPattern {
    /// The pattern of the long (`short == false`) or short training.
    pub fn new(short: bool) -> Self {
        let (segment3, segment4) = if short {
            (SHORT_SEG3_SYMBOLS, SHORT_SEG4_SYMBOLS)
        } else {
            (LONG_SEG3_SYMBOLS, LONG_SEG4_SYMBOLS)
        };
        let mut scrambler = GuardedScrambler::new();
        scrambler.load(&SEG4_INITIAL_STATE);
        TrainingPattern {
            segment3,
            segment4,
            index: 0,
            scrambler,
        }
    }

    /// Symbols in segments 3 and 4 together.
    pub fn len(&self) -> usize {
        self.segment3 + self.segment4
    }

    /// Never empty; present for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Symbols of segment 3.
    pub fn segment3(&self) -> usize {
        self.segment3
    }

    /// The next phase change, or `None` after segment 4. The scrambler, left as segment 4
    /// ends it, is then available through [`TrainingPattern::into_scrambler`].
    pub fn next_change(&mut self) -> Option<u8> {
        let i = self.index;
        if i >= self.len() {
            return None;
        }
        self.index += 1;
        if i < self.segment3 {
            return Some(4);
        }
        let first = self.scrambler.scramble_unguarded(true);
        self.scrambler.scramble_unguarded(true);
        self.scrambler.scramble_unguarded(true);
        Some(if first { 4 } else { 0 })
    }

    /// The scrambler in the state the pattern left it.
    pub fn into_scrambler(self) -> GuardedScrambler {
        self.scrambler
    }
}

/// The eight unit-power phase points, index k at k·45°.
fn phase_points() -> [Complex32; 8] {
    std::array::from_fn(|k| Complex32::from_polar(1.0, k as f32 * std::f32::consts::FRAC_PI_4))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Segments 3 and 4.
    Training,
    /// Segment 5: scrambled ones; the count is symbols left.
    Ones(usize),
    Data,
    /// Scrambled ones after the data; symbols left.
    Tail(usize),
    /// Zero symbols to let the pulse die away; symbols left.
    Flush(usize),
    Done,
}

/// Everything that produces symbols, apart from the shaper so that both can be borrowed.
#[derive(Debug, Clone)]
struct SymbolSource {
    rate: u32,
    bits: usize,
    stage: Stage,
    pattern: TrainingPattern,
    scrambler: GuardedScrambler,
    phase: u8,
    tail_symbols: usize,
    /// Set when a symbol is asked for after the flush: the transmission is over.
    ended: bool,
}

impl SymbolSource {
    /// The next symbol: a point of [`phase_points`], or silence.
    fn next_symbol(&mut self, src: &mut dyn BitSource) -> Pull {
        let change = match self.stage {
            Stage::Training => match self.pattern.next_change() {
                Some(c) => c,
                None => {
                    self.scrambler = self.pattern.clone().into_scrambler();
                    self.scrambler.reset_guard();
                    self.stage = Stage::Ones(SEG5_SYMBOLS);
                    return self.next_symbol(src);
                }
            },
            Stage::Ones(0) => {
                self.stage = Stage::Data;
                return self.next_symbol(src);
            }
            Stage::Ones(n) => {
                self.stage = Stage::Ones(n - 1);
                self.ones_change()
            }
            Stage::Data => {
                let (bits, got) = src.next_bits(self.bits as u32);
                if (got as usize) < self.bits {
                    self.stage = Stage::Tail(self.tail_symbols);
                }
                // Once the data has ended, the rest of the symbol is ones.
                let raw = bits | !((1u32 << got) - 1);
                let group = self.scrambler.scramble_group(raw, self.bits as u32) as u8;
                if got == 0 {
                    // The data ended on a symbol boundary: this symbol is the first of the tail.
                    if let Stage::Tail(n) = self.stage {
                        self.stage = Stage::Tail(n - 1);
                    }
                }
                phase_change(self.rate, group)
            }
            Stage::Tail(0) => {
                self.stage = Stage::Flush(TX_SPAN);
                return self.next_symbol(src);
            }
            Stage::Tail(n) => {
                self.stage = Stage::Tail(n - 1);
                self.ones_change()
            }
            Stage::Flush(0) | Stage::Done => {
                self.stage = Stage::Done;
                self.ended = true;
                return Pull::Symbol(Complex32::new(0.0, 0.0));
            }
            Stage::Flush(n) => {
                self.stage = Stage::Flush(n - 1);
                return Pull::Symbol(Complex32::new(0.0, 0.0));
            }
        };
        self.phase = (self.phase + change) & 7;
        Pull::Point(self.phase)
    }

    fn ones_change(&mut self) -> u8 {
        let group = self.scrambler.scramble_group(u32::MAX, self.bits as u32) as u8;
        phase_change(self.rate, group)
    }
}

/// The V.27ter modulator.
#[derive(Debug, Clone)]
pub struct V27terTx {
    shaper: BlockShaper,
    symbols: SymbolSource,
    /// Silence samples still to send before the first symbol.
    silence: usize,
    finished: bool,
}

impl V27terTx {
    /// A transmitter at `cfg.rate` (2400 or 4800), long or short training.
    pub fn new(cfg: &TxConfig) -> Result<Self, Error> {
        ModemKind::V27ter.check_rate(cfg.rate)?;
        if !cfg.level_dbm0.is_finite() || cfg.level_dbm0 > 3.0 {
            return Err(Error::InvalidConfig(format!(
                "transmit level {} dBm0",
                cfg.level_dbm0
            )));
        }
        let baud = baud(cfg.rate);
        let mut shaper = BlockShaper::new(baud, CARRIER_HZ as u32, ROLLOFF, TX_SPAN);
        shaper.set_points(&phase_points());
        shaper.set_level(cfg.level_dbm0, 1.0);
        Ok(V27terTx {
            shaper,
            symbols: SymbolSource {
                rate: cfg.rate,
                bits: bits_per_symbol(cfg.rate),
                stage: Stage::Training,
                pattern: TrainingPattern::new(cfg.short_train),
                scrambler: GuardedScrambler::new(),
                phase: 0,
                tail_symbols: (baud / 50) as usize,
                ended: false,
            },
            silence: if cfg.short_train {
                0
            } else {
                LONG_SILENCE_SAMPLES
            },
            finished: false,
        })
    }

    /// The bit rate.
    pub fn rate(&self) -> u32 {
        self.symbols.rate
    }
}

impl Transmitter for V27terTx {
    fn fill(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        if self.finished {
            return 0;
        }
        let quiet = self.silence.min(out.len());
        out[..quiet].fill(0);
        self.silence -= quiet;
        let symbols = &mut self.symbols;
        let n = self.shaper.fill(&mut out[quiet..], || {
            let a = symbols.next_symbol(&mut *src);
            if symbols.ended { Pull::End } else { a }
        });
        self.finished = self.shaper.is_finished();
        quiet + n
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Differential symbols (8 reversals, then the first 16 of the conditioning pattern) whose
/// appearance marks the segment 3/4 boundary.
const SYNC_REVERSALS: usize = 8;
const SYNC_PATTERN: usize = 16;
const SYNC_LEN: usize = SYNC_REVERSALS + SYNC_PATTERN;
/// Normalised correlation with the boundary pattern that counts as found.
const SYNC_THRESHOLD: f32 = 0.8;
/// Mean |differential| (symbol power, AGC target 1) below which the window is not signal.
const SYNC_MIN_POWER: f32 = 0.3;
/// SNR at the end of segment 4 below which training has failed, dB: where 8-PSK
/// (4800 bit/s) and 4-PSK (2400 bit/s) decisions stop being usable.
fn train_min_snr_db(rate: u32) -> f32 {
    if rate == 4800 { 12.0 } else { 8.0 }
}
/// Equaliser step (fraction of the error corrected per symbol) in the second half of a long
/// training and during a short one.
const TRAIN_SETTLE_STEP: f32 = 0.1;
/// Equaliser step while tracking data.
const DATA_STEP: f32 = 0.03;
/// Timing-loop bandwidth (fraction of the baud rate) while looking for the training.
const SEARCH_TIMING_BW: f32 = 0.05;
/// Smoothing of the data symbols' power for loss-of-signal detection (about 16 symbols).
const LOSS_ALPHA: f32 = 1.0 / 16.0;
/// Data-symbol power (the AGC target being 1) below which the signal is taken as ended.
const LOSS_POWER: f32 = 0.25;
/// Carrier-detect power averaging, samples.
const CD_SAMPLES: f32 = 24.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    /// No carrier.
    Idle,
    /// Carrier present, looking for the segment 3/4 boundary; counts symbols looked at.
    Searching(usize),
    /// Training on the known symbols; the index into [`TrainingPattern`] of the next symbol.
    Training(usize),
    /// Segment 5 (scrambled ones, not delivered); symbols left.
    Ones(usize),
    /// Delivering data.
    Data,
    /// Training failed; waiting for the carrier to go.
    Failed,
}

/// The V.27ter demodulator, on the shared receiver core ([`crate::qam`]).
///
/// It finds the training by the change from segment 3's reversals to segment 4's
/// conditioning pattern (a differential correlation, blind to carrier phase), aligns the
/// equaliser there, trains it on the rest of segment 4, and then decides each symbol to the
/// nearest phase point and decodes the bits from the phase change between decisions. The
/// scrambled ones of segment 5 synchronise the descrambler and are not delivered, so the
/// first bit out is the first data bit.
#[derive(Debug, Clone)]
pub struct V27terRx {
    rate: u32,
    short_train: bool,
    core: QamDemod,
    cd: CarrierDetect,
    state: RxState,
    /// Expected absolute phase index (45° units) of every training symbol.
    train_phase: Vec<u8>,
    /// Differentials of segments 3/4 at the boundary, as ±1 (180° → −1).
    sync_ref: [f32; SYNC_LEN],
    /// The last SYNC_LEN raw differentials as (real part, magnitude), ring: each
    /// magnitude is taken once, not at every symbol of the window.
    diffs: [(f32, f32); SYNC_LEN],
    diff_pos: usize,
    prev_y: Complex32,
    /// Correlation score of the previous symbol, for peak picking.
    candidate: f32,
    /// Phase index of the previous decision.
    prev_phase: u8,
    points: [Complex32; 8],
    descrambler: GuardedDescrambler,
    trained_once: bool,
    failure_reported: bool,
    /// Whether a CarrierUp has been reported without its CarrierDown.
    carrier_reported: bool,
    /// Smoothed |y|² of the data symbols (1 while the signal lasts, the AGC being frozen).
    sym_power: f32,
    /// The figures of the last reception once it has ended, for reports.
    held: Option<Quality>,
    /// A short training's search: the last raw symbol and mid-point, the smoothed timing
    /// measures of the reversals, the reversals in a row, and whether the timing moved.
    reversal: ReversalTiming,
}

/// The sampling phase read from segment 3's 180° reversals (as V.29 reads it from its
/// alternations): a short training has only 14 of them, too few for Gardner's loop to leave
/// its unstable point (half a symbol off) when a burst happens to start there.
#[derive(Debug, Clone, Copy, Default)]
struct ReversalTiming {
    prev: (Complex32, Complex32),
    cos: f32,
    sin: f32,
    run: usize,
    done: bool,
}

impl V27terRx {
    /// A receiver for `cfg.rate` (2400 or 4800).
    pub fn new(cfg: &RxConfig) -> Result<Self, Error> {
        ModemKind::V27ter.check_rate(cfg.rate)?;
        let core = QamDemod::new(&Self::core_config(cfg.rate));
        let mut rx = V27terRx {
            rate: cfg.rate,
            short_train: cfg.short_train,
            core,
            cd: CarrierDetect::new(CD_SAMPLES),
            state: RxState::Idle,
            train_phase: Vec::new(),
            sync_ref: [0.0; SYNC_LEN],
            diffs: [(0.0, 0.0); SYNC_LEN],
            diff_pos: 0,
            prev_y: Complex32::new(0.0, 0.0),
            candidate: 0.0,
            prev_phase: 0,
            points: phase_points(),
            descrambler: GuardedDescrambler::new(),
            trained_once: false,
            failure_reported: false,
            carrier_reported: false,
            sym_power: 1.0,
            held: None,
            reversal: ReversalTiming::default(),
        };
        rx.prepare_pattern();
        Ok(rx)
    }

    fn core_config(rate: u32) -> DemodConfig {
        let mut c = DemodConfig::new(baud(rate), CARRIER_HZ, 1.0);
        c.rolloff = ROLLOFF;
        c
    }

    fn prepare_pattern(&mut self) {
        let mut p = TrainingPattern::new(self.short_train);
        let seg3 = p.segment3();
        let mut phase = 0u8;
        self.train_phase.clear();
        while let Some(c) = p.next_change() {
            phase = (phase + c) & 7;
            self.train_phase.push(phase);
        }
        // Differentials around the boundary: the last SYNC_REVERSALS of segment 3 and the
        // first SYNC_PATTERN of segment 4.
        for (j, r) in self.sync_ref.iter_mut().enumerate() {
            let k = seg3 - SYNC_REVERSALS + j;
            let change = (self.train_phase[k] + 8 - self.train_phase[k - 1]) & 7;
            *r = if change == 0 { 1.0 } else { -1.0 };
        }
    }

    /// The bit rate.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    fn trained(&self) -> bool {
        matches!(self.state, RxState::Ones(_) | RxState::Data)
    }

    fn live_quality(&self, trained: bool) -> Quality {
        Quality {
            level_dbm0: self.cd.dbm0(),
            snr_db: self.core.snr_db(),
            carrier_offset_hz: self.core.carrier_offset_hz(),
            timing_offset_ppm: self.core.timing_offset_ppm(),
            trained,
        }
    }

    /// Keeps the figures of a reception that is ending.
    fn hold_quality(&mut self) {
        self.held = Some(self.live_quality(false));
    }

    fn start_signal(&mut self) {
        if self.short_train && self.trained_once {
            self.core.restart_signal();
            if self.core.restore() {
                // Keep the equaliser but acquire this burst's timing and phase quickly.
                self.core.set_carrier_bandwidth(0.02);
                self.core.set_eq_step(TRAIN_SETTLE_STEP);
            } else {
                self.core.reset();
            }
        } else {
            self.core.reset();
        }
        // Segment 3 is short (14 symbols in a short training): the timing loop must pull in
        // fast on its reversals, which give Gardner's detector its strongest signal.
        self.core.set_timing_bandwidth(SEARCH_TIMING_BW);
        self.state = RxState::Searching(0);
        self.diffs = [(0.0, 0.0); SYNC_LEN];
        self.diff_pos = 0;
        self.prev_y = Complex32::new(0.0, 0.0);
        self.candidate = 0.0;
        self.failure_reported = false;
        self.reversal = ReversalTiming::default();
    }

    /// Symbols to look for the training before reporting failure.
    fn search_limit(&self) -> usize {
        self.train_phase.len() + 200
    }

    fn fail(&mut self, sink: &mut dyn RxSink) {
        if self.carrier_reported && !self.failure_reported {
            self.failure_reported = true;
            sink.event(RxEvent::TrainingFailed);
        }
    }

    #[inline(always)]
    fn on_symbol<const AVX: bool>(&mut self, y: Complex32, sink: &mut dyn RxSink) {
        match self.state {
            RxState::Idle | RxState::Failed => self.core.advance(),
            RxState::Searching(n) => {
                if self.short_train && self.trained_once && !self.reversal.done {
                    self.reversal_timing();
                }
                let d = y * self.prev_y.conj();
                self.prev_y = y;
                self.diffs[self.diff_pos] = (d.re, d.norm());
                self.diff_pos = (self.diff_pos + 1) % SYNC_LEN;
                // Oldest first: the ring from diff_pos onwards.
                let mut acc = 0.0;
                let mut norm = 0.0;
                let (newer, older) = self.diffs.split_at(self.diff_pos);
                for (&(re, mag), r) in older.iter().chain(newer).zip(&self.sync_ref) {
                    acc += re * r;
                    norm += mag;
                }
                // Only a full window counts, and only if it carries signal.
                let score = if n >= SYNC_LEN && norm > SYNC_MIN_POWER * SYNC_LEN as f32 {
                    acc / norm
                } else {
                    0.0
                };
                if self.candidate > SYNC_THRESHOLD && score < self.candidate {
                    // The previous symbol was the peak: it was training symbol
                    // seg3 + SYNC_PATTERN - 1, so this one is the next.
                    let k = self.train_phase.len() - self.pattern_seg4() + SYNC_PATTERN;
                    let expected = self.points[self.train_phase[k] as usize];
                    if !self.carrier_reported {
                        // A new burst after the previous one was lost in continuing noise.
                        self.carrier_reported = true;
                        sink.event(RxEvent::CarrierUp {
                            level_dbm0: self.cd.dbm0(),
                        });
                    }
                    self.core.align(y, expected);
                    self.core.adapt(expected);
                    self.core.set_timing_bandwidth(0.004);
                    self.candidate = 0.0;
                    self.state = RxState::Training(k + 1);
                } else {
                    self.candidate = score;
                    self.core.advance();
                    if n + 1 >= self.search_limit() {
                        self.fail(sink);
                        self.state = RxState::Searching(0);
                    } else {
                        self.state = RxState::Searching(n + 1);
                    }
                }
            }
            RxState::Training(k) => {
                let phase = self.train_phase[k];
                self.core.adapt_v::<AVX>(self.points[phase as usize]);
                if k == self.train_phase.len() / 2 && !self.short_train {
                    // Halfway through a long training: settle the equaliser.
                    self.core.set_eq_step(TRAIN_SETTLE_STEP);
                }
                if k + 1 < self.train_phase.len() {
                    self.state = RxState::Training(k + 1);
                } else if self.core.snr_db() >= train_min_snr_db(self.rate) {
                    self.prev_phase = phase;
                    self.core.freeze_agc(true);
                    self.core.set_eq_step(DATA_STEP);
                    self.core.set_carrier_bandwidth(0.004);
                    self.core.set_timing_bandwidth(0.001);
                    // The integrator learns the clock offset: a first-order loop this narrow
                    // lags a drift, and lost the signal at ±300 ppm.
                    self.core.use_timing_integrator(true);
                    self.core.restart_clock_estimate();
                    if !self.short_train {
                        self.core.save();
                    }
                    self.trained_once = true;
                    self.descrambler = GuardedDescrambler::new();
                    self.sym_power = 1.0;
                    self.state = RxState::Ones(SEG5_SYMBOLS);
                    sink.event(RxEvent::TrainingSucceeded {
                        rate: self.rate,
                        snr_db: self.core.snr_db(),
                    });
                } else {
                    self.fail(sink);
                    self.state = RxState::Failed;
                }
            }
            RxState::Ones(n) => {
                self.decide::<AVX>(y, None);
                self.state = if n > 1 {
                    RxState::Ones(n - 1)
                } else {
                    RxState::Data
                };
            }
            RxState::Data => {
                self.sym_power += (y.norm_sqr() - self.sym_power) * LOSS_ALPHA;
                if self.sym_power < LOSS_POWER {
                    // The signal ended though line noise keeps the energy detector on.
                    self.core.advance();
                    self.hold_quality();
                    self.carrier_reported = false;
                    sink.event(RxEvent::CarrierDown);
                    self.start_signal();
                } else {
                    self.decide::<AVX>(y, Some(sink));
                }
            }
        }
    }

    /// Reads the sampling phase from segment 3's reversals, a tone at half the symbol rate,
    /// once [`REVERSALS_FOR_TIMING`] have come in a row, and moves there.
    fn reversal_timing(&mut self) {
        let cur = (self.core.raw_symbol(), self.core.raw_midpoint());
        let r = &mut self.reversal;
        let (prev_y, prev_m) = r.prev;
        r.prev = cur;
        // A reversal flips both half-symbol samples (at any sampling phase).
        let flip = (cur.0 * prev_y.conj() + cur.1 * prev_m.conj()).re;
        let power = cur.0.norm_sqr() + cur.1.norm_sqr();
        if power > 0.0 && flip < -0.5 * power {
            let (dy, dm) = (cur.0 - prev_y, cur.1 - prev_m);
            r.run += 1;
            r.cos += dy.norm_sqr() - dm.norm_sqr();
            r.sin += (dy * dm.conj()).re;
        } else {
            *r = ReversalTiming {
                prev: cur,
                ..ReversalTiming::default()
            };
            return;
        }
        if r.run >= REVERSALS_FOR_TIMING {
            let symbol = crate::SAMPLE_RATE as f32 / baud(self.rate) as f32;
            let late = half_rate_tone_lateness(r.cos, r.sin, symbol);
            r.done = true;
            self.core.shift_timing(-late);
        }
    }

    fn pattern_seg4(&self) -> usize {
        if self.short_train {
            SHORT_SEG4_SYMBOLS
        } else {
            LONG_SEG4_SYMBOLS
        }
    }

    /// Slices `y`, adapts the core to the decision and descrambles the bits it carries,
    /// delivering them when `sink` is given.
    #[inline(always)]
    fn decide<const AVX: bool>(&mut self, y: Complex32, sink: Option<&mut dyn RxSink>) {
        let phase = slice_phase(self.rate, y);
        self.core.adapt_v::<AVX>(self.points[phase as usize]);
        let change = (phase + 8 - self.prev_phase) & 7;
        self.prev_phase = phase;
        let group = bits_for_change(self.rate, change);
        let n = bits_per_symbol(self.rate);
        // The group's top bit is sent first; the sink takes the first in bit 0.
        let out = self.descrambler.descramble_group(group as u32, n as u32);
        if let Some(sink) = sink {
            sink.bits(out, n as u32);
        }
    }
}

/// The phase index (0..8, k·45°) of the point nearest `y`: the octant of `y` turned by half
/// a step (22.5° at 4800 bit/s, 45° among the four points of 2400 bit/s), found by
/// comparisons instead of an arc tangent.
#[inline]
fn slice_phase(rate: u32, y: Complex32) -> u8 {
    if rate == 4800 {
        // cos and sin of 22.5°.
        let v = y * Complex32::new(0.923_879_5, 0.382_683_43);
        octant(v)
    } else {
        let v = y * Complex32::new(
            std::f32::consts::FRAC_1_SQRT_2,
            std::f32::consts::FRAC_1_SQRT_2,
        );
        octant(v) & 6
    }
}

/// The octant (0..8, counter-clockwise from the positive real axis) holding `v`: the
/// comparisons of [`octant_nested`], all made and the right one picked, since with noisy
/// symbols each branch of the nested form is a coin toss for the processor's predictor.
#[inline]
// The negated comparisons are the nested form's `else` arms: with a NaN they must be true.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn octant(v: Complex32) -> u8 {
    let (re, im) = (v.re, v.im);
    let upper = im >= 0.0;
    // Quadrant-like index: which pair of octants the nested form goes to.
    let second = if upper { !(re > 0.0) } else { !(re < 0.0) };
    let pair = ((!upper as u8) << 1) | second as u8;
    // The comparison that splits each pair, true for the pair's second octant.
    let splits = (!(im < re) as u8)
        | ((!(im >= -re) as u8) << 1)
        | ((!(-im < -re) as u8) << 2)
        | ((!(re <= -im) as u8) << 3);
    (pair << 1) | ((splits >> pair) & 1)
}

/// [`octant`] as nested comparisons: the reference it is tested against.
#[cfg(test)]
fn octant_nested(v: Complex32) -> u8 {
    let (re, im) = (v.re, v.im);
    if im >= 0.0 {
        if re > 0.0 {
            if im < re { 0 } else { 1 }
        } else if im >= -re {
            2
        } else {
            3
        }
    } else if re < 0.0 {
        if -im < -re { 4 } else { 5 }
    } else if re <= -im {
        6
    } else {
        7
    }
}

/// [`slice_phase`] by the arc tangent: the reference it is tested against.
#[cfg(test)]
fn slice_phase_reference(rate: u32, y: Complex32) -> u8 {
    let unit = std::f32::consts::FRAC_PI_4;
    let a = y.im.atan2(y.re);
    if rate == 4800 {
        ((a / unit).round() as i32).rem_euclid(8) as u8
    } else {
        (((a / (2.0 * unit)).round() as i32).rem_euclid(4) * 2) as u8
    }
}

impl V27terRx {
    /// Runs the demodulator over samples during which the carrier does not change (only the
    /// carrier detector makes the receiver idle).
    /// Returns how many samples were taken: all of them, unless a symbol withdrew the
    /// carrier report (the caller then brings the detector back to that sample).
    #[inline(always)]
    fn demodulate<const AVX: bool>(&mut self, mut samples: &[i16], sink: &mut dyn RxSink) -> usize {
        let total = samples.len();
        while !samples.is_empty() && self.state != RxState::Idle {
            let (n, symbol) = self.core.push_block_v::<AVX>(samples);
            samples = &samples[n..];
            if let Some(y) = symbol {
                let reported = self.carrier_reported;
                self.on_symbol::<AVX>(y, sink);
                if reported && !self.carrier_reported {
                    return total - samples.len();
                }
            }
        }
        total
    }
}

impl crate::simd::VectorRx for V27terRx {
    #[inline(always)]
    fn process_v<const AVX: bool>(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        self.core.new_input();
        // The carrier detector runs ahead to its next change; the samples before the change
        // are demodulated in one go, then the change is handled, then its own sample is
        // demodulated, as sample by sample. The demodulator reads the detector only to report
        // a carrier it had withdrawn (a burst after one lost in noise): while none is
        // reported, and after a symbol withdraws it, the detector keeps pace sample by sample.
        let mut rest = samples;
        while !rest.is_empty() {
            let limit = if self.carrier_reported || self.state == RxState::Idle {
                rest.len()
            } else {
                1
            };
            let before = self.cd.clone();
            let (n, change) = self.cd.scan(&rest[..limit]);
            let run = if change.is_some() { n - 1 } else { n };
            let taken = self.demodulate::<AVX>(&rest[..run], sink);
            if taken < run {
                // Back to where the demodulator stopped (the same samples, so no change).
                self.cd = before;
                self.cd.scan(&rest[..taken]);
                rest = &rest[taken..];
                continue;
            }
            let Some(change) = change else {
                rest = &rest[n..];
                continue;
            };
            if change {
                self.carrier_reported = true;
                sink.event(RxEvent::CarrierUp {
                    level_dbm0: self.cd.dbm0(),
                });
                self.start_signal();
            } else {
                if matches!(self.state, RxState::Ones(_) | RxState::Data) {
                    self.hold_quality();
                }
                if matches!(self.state, RxState::Searching(_) | RxState::Training(_)) {
                    self.fail(sink);
                }
                self.state = RxState::Idle;
                if self.carrier_reported {
                    self.carrier_reported = false;
                    sink.event(RxEvent::CarrierDown);
                }
            }
            self.demodulate::<AVX>(&rest[n - 1..n], sink);
            rest = &rest[n..];
        }
    }
}

impl Receiver for V27terRx {
    fn last_symbol(&self) -> Option<(f32, f32)> {
        let s = self.core.symbol();
        Some((s.re, s.im))
    }

    fn process(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        crate::simd::process(self, samples, sink);
    }

    fn quality(&self) -> Quality {
        match (self.trained(), self.held) {
            (false, Some(q)) => q,
            (trained, _) => self.live_quality(trained),
        }
    }

    fn restart(&mut self, cfg: &RxConfig) -> Result<(), Error> {
        ModemKind::V27ter.check_rate(cfg.rate)?;
        if cfg.rate != self.rate {
            // What was learnt at another symbol rate is of no use.
            self.core = QamDemod::new(&Self::core_config(cfg.rate));
            self.trained_once = false;
        }
        self.rate = cfg.rate;
        self.short_train = cfg.short_train;
        self.prepare_pattern();
        self.cd.reset();
        self.state = RxState::Idle;
        self.carrier_reported = false;
        self.held = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups give the bit-by-bit scrambler's output, also where the guard steps in: the data
    /// is mostly chosen so that line bits repeat, which drives the run to the guard length.
    #[test]
    fn scramble_group_matches_bitwise() {
        let mut seed = 11u32;
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 8
        };
        let mut bitwise = GuardedScrambler::new();
        let mut grouped = GuardedScrambler::new();
        let mut flips = 0;
        for step in 0..20_000 {
            let n = if step % 3 == 0 { 2 } else { 3 };
            let mut data = 0u32;
            let mut want = 0u32;
            for i in 0..n {
                // A data bit that repeats the line bit 8 places back, most of the time.
                let fb = feedback(bitwise.reg);
                let target = (bitwise.reg >> 7) & 1;
                let bit = if rnd() % 16 == 0 {
                    rnd() & 1
                } else {
                    target ^ fb
                };
                data |= bit << i;
                let before = bitwise.run;
                let out = bitwise.scramble(bit != 0) as u32;
                if before >= GUARD_RUN {
                    flips += 1;
                }
                want = (want << 1) | out;
            }
            assert_eq!(grouped.scramble_group(data, n), want, "step {step}");
            assert_eq!((grouped.reg, grouped.run), (bitwise.reg, bitwise.run));
        }
        assert!(flips > 10, "the guard stepped in {flips} times");
    }

    /// Groups give the bit-by-bit descrambler's output, also where the guard steps in: the
    /// line bits are mostly chosen to repeat the one 8 places back, which drives the run to
    /// the guard length.
    #[test]
    fn descramble_group_matches_bitwise() {
        let mut seed = 5u32;
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 8
        };
        let mut bitwise = GuardedDescrambler::new();
        let mut grouped = GuardedDescrambler::new();
        let mut flips = 0;
        for step in 0..20_000 {
            let n = [3, 2, 1, 6, 3][step % 5];
            let mut line = 0u32;
            let mut want = 0u32;
            for k in 0..n {
                let bit = if rnd() % 16 == 0 {
                    rnd() & 1
                } else {
                    (bitwise.reg >> 7) & 1
                };
                line = (line << 1) | bit;
                if bitwise.run >= GUARD_RUN {
                    flips += 1;
                }
                want |= (bitwise.descramble(bit != 0) as u32) << k;
            }
            assert_eq!(
                grouped.descramble_group(line, n as u32),
                want,
                "step {step}"
            );
            assert_eq!((grouped.reg, grouped.run), (bitwise.reg, bitwise.run));
        }
        assert!(flips > 10, "the guard stepped in {flips} times");
    }

    /// The comparison slicer agrees with the arc tangent one away from the decision
    /// boundaries (where a rounding difference may go either way).
    #[test]
    fn slicer_matches_arc_tangent() {
        let mut k = 3u32;
        for _ in 0..200_000 {
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let a = (k >> 8) as f32 / (1u32 << 24) as f32 * std::f32::consts::TAU;
            let r = 0.1 + ((k >> 4) & 0xff) as f32 / 64.0;
            let y = Complex32::from_polar(r, a);
            for (rate, step) in [
                (4800, std::f32::consts::FRAC_PI_4),
                (2400, std::f32::consts::FRAC_PI_2),
            ] {
                let to_boundary = ((a / step - 0.5).rem_euclid(1.0) - 0.5).abs();
                if to_boundary > 0.49 {
                    continue;
                }
                assert_eq!(
                    slice_phase(rate, y),
                    slice_phase_reference(rate, y),
                    "{rate} {a}"
                );
            }
        }
    }

    /// The branch-free octant is the nested one everywhere: on the axes and diagonals, at
    /// signed zeros, infinities and NaN, and on random points.
    #[test]
    fn octant_without_branches_is_the_nested_one() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
        ];
        for &re in &specials {
            for &im in &specials {
                let v = Complex32::new(re, im);
                assert_eq!(octant(v), octant_nested(v), "{v:?}");
            }
        }
        let mut k = 7u32;
        for _ in 0..100_000 {
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let re = ((k >> 8) & 0xffff) as f32 / 4096.0 - 8.0;
            k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let im = ((k >> 8) & 0xffff) as f32 / 4096.0 - 8.0;
            // Exact diagonals too, where the splitting comparisons tie.
            for v in [
                Complex32::new(re, im),
                Complex32::new(re, re),
                Complex32::new(re, -re),
            ] {
                assert_eq!(octant(v), octant_nested(v), "{v:?}");
            }
        }
    }

    #[test]
    fn tables_invert() {
        for rate in [2400, 4800] {
            let n = 1u8 << bits_per_symbol(rate);
            for g in 0..n {
                assert_eq!(bits_for_change(rate, phase_change(rate, g)), g);
            }
        }
        assert_eq!(phase_change(4800, 0b001), 0);
        assert_eq!(phase_change(4800, 0b111), 4);
        assert_eq!(phase_change(4800, 0b101), 7);
        assert_eq!(phase_change(2400, 0b10), 6);
    }

    #[test]
    fn guarded_round_trip_and_periodic_data() {
        let mut s = GuardedScrambler::new();
        let mut d = GuardedDescrambler::new();
        let mut x = 7u32;
        let mut inverted = 0;
        for i in 0..20_000 {
            // Random data, then all zeros (which would leave a cleared plain scrambler at 0).
            let bit = if i < 10_000 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) & 1 == 1
            } else {
                false
            };
            let run_before = s.run;
            let line = s.scramble(bit);
            if run_before >= GUARD_RUN {
                inverted += 1;
            }
            let back = d.descramble(line);
            if i >= 12 {
                assert_eq!(back, bit, "bit {i}");
            }
        }
        assert!(inverted > 3, "guard fired {inverted} times");
    }

    #[test]
    fn zeros_from_cleared_register_do_not_stay_zero() {
        let mut s = GuardedScrambler::new();
        let ones = (0..1000).filter(|_| s.scramble(false)).count();
        assert!(ones > 20, "{ones}");
    }

    #[test]
    fn pattern_lengths_and_start() {
        let mut p = TrainingPattern::new(false);
        let v: Vec<u8> = std::iter::from_fn(|| p.next_change()).collect();
        assert_eq!(v.len(), 1124);
        assert!(v[..50].iter().all(|&c| c == 4));
        // The conditioning pattern opens 0°, 180°×5, 0°×4 (state 0011110, ones in).
        assert_eq!(&v[50..60], &[0, 4, 4, 4, 4, 4, 0, 0, 0, 0]);
        let mut p = TrainingPattern::new(true);
        assert_eq!(std::iter::from_fn(|| p.next_change()).count(), 72);
    }
}
