//! The ITU-T O.152 2^11−1 pseudo-random test pattern, and a self-synchronising checker.
//!
//! The pattern is the output of an 11-stage shift register whose 9th and 11th stage outputs
//! are added modulo two and fed back to the first stage (polynomial x^11 + x^9 + 1, period
//! 2047 bits, at most 10 zeros and 11 ones in a row). Test sets for 64 kbit/s and voice-band
//! data use it, which makes bit-error figures comparable with theirs.
//!
//! The [`PrbsChecker`] needs no alignment with the generator: it predicts each received bit
//! from the 11 before it and locks once [`SYNC_RUN`] predictions in a row come true. From then
//! on it compares against its own free-running copy of the pattern, so one line error counts
//! as one bit error (a plain self-synchronising descrambler would count three). When too
//! many errors crowd a short window ([`LOSS_ERRORS`] of the last [`LOSS_WINDOW`] bits), as
//! after a bit slip, it drops lock and searches again.

use crate::{BitSource, RxEvent, RxSink};

/// Length of the pattern before it repeats.
pub const PERIOD: usize = 2047;
/// Register mask: 11 stages.
const MASK: u16 = 0x7ff;
/// Consecutive correct predictions (after the register has filled) needed to lock.
pub const SYNC_RUN: u32 = 32;
/// Window, in bits, over which loss of lock is judged.
pub const LOSS_WINDOW: u32 = 64;
/// Selects the last `LOSS_WINDOW` error flags (at most 64).
const WINDOW_MASK: u64 = u64::MAX >> (64 - LOSS_WINDOW);
/// Correct bits in a row that mark a point where the pattern was certainly being received:
/// [`PrbsChecker::stats_to_last_clean_run`] counts up to the last such point.
pub const CLEAN_RUN: u32 = 32;
/// Errors within the window that mean the checker has lost the pattern (random data gives
/// about 32; a channel at a BER of 10^-2 gives one now and then).
pub const LOSS_ERRORS: u32 = 16;

/// The next bit of the pattern for a register holding the last 11 bits (bit 0 newest).
fn feedback(reg: u16) -> bool {
    ((reg >> 8) ^ (reg >> 10)) & 1 == 1
}

/// The 2^11−1 pattern generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prbs11 {
    reg: u16,
}

impl Default for Prbs11 {
    fn default() -> Self {
        Prbs11::new()
    }
}

impl Prbs11 {
    /// A generator starting from the all-ones state.
    pub fn new() -> Prbs11 {
        Prbs11 { reg: MASK }
    }

    /// A generator starting from `seed` (its low 11 bits; zero, which would lock the
    /// register, is replaced by all ones).
    pub fn with_seed(seed: u16) -> Prbs11 {
        let reg = seed & MASK;
        Prbs11 {
            reg: if reg == 0 { MASK } else { reg },
        }
    }

    /// The next bit of the pattern.
    pub fn next_bit(&mut self) -> bool {
        let bit = feedback(self.reg);
        self.reg = ((self.reg << 1) | u16::from(bit)) & MASK;
        bit
    }
}

/// The pattern as a [`BitSource`]: endless, or ending after a number of bits.
#[derive(Debug, Clone)]
pub struct PrbsSource {
    generator: Prbs11,
    remaining: Option<u64>,
}

impl PrbsSource {
    /// A source that never ends.
    pub fn endless() -> PrbsSource {
        PrbsSource {
            generator: Prbs11::new(),
            remaining: None,
        }
    }

    /// A source that ends after `bits` bits.
    pub fn bounded(bits: u64) -> PrbsSource {
        PrbsSource {
            generator: Prbs11::new(),
            remaining: Some(bits),
        }
    }

    /// Bits still to send (`None` for an endless source).
    pub fn remaining(&self) -> Option<u64> {
        self.remaining
    }
}

impl BitSource for PrbsSource {
    fn next_bit(&mut self) -> Option<bool> {
        match &mut self.remaining {
            Some(0) => None,
            Some(n) => {
                *n -= 1;
                Some(self.generator.next_bit())
            }
            None => Some(self.generator.next_bit()),
        }
    }
}

/// Counts of a [`PrbsChecker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrbsStats {
    /// Bits compared while locked.
    pub bits: u64,
    /// Of those, bits that differed from the pattern.
    pub errors: u64,
    /// Bits received while searching for the pattern (not compared).
    pub unsynced_bits: u64,
    /// Times lock was gained.
    pub syncs: u64,
    /// Times lock was lost after having been gained.
    pub sync_losses: u64,
    /// Bits left out at the end by [`PrbsChecker::stats_to_last_clean_run`] (zero in
    /// [`PrbsChecker::stats`]).
    pub trailing_bits: u64,
}

impl PrbsStats {
    /// Bit error ratio over the compared bits; `None` before any bit was compared.
    pub fn ber(&self) -> Option<f64> {
        (self.bits > 0).then(|| self.errors as f64 / self.bits as f64)
    }
}

/// A self-synchronising checker of the 2^11−1 pattern.
///
/// Feed it received bits ([`PrbsChecker::push`], or use it as an [`RxSink`], which ignores
/// events). Errors inside the window that triggers loss of lock stay counted: they were
/// real disagreements with the pattern.
#[derive(Debug, Clone, Default)]
pub struct PrbsChecker {
    /// The last 11 received bits, bit 0 newest.
    history: u16,
    /// How many bits `history` holds (saturates at 11).
    filled: u32,
    /// Locked: the local copy of the pattern. Searching: `None`.
    local: Option<u16>,
    /// Searching: correct predictions in a row.
    run: u32,
    /// Locked: error flags of the last `LOSS_WINDOW` bits, bit 0 newest.
    window: u64,
    /// Locked: correct bits in a row.
    clean_run: u32,
    stats: PrbsStats,
    /// Bits pushed in all.
    pushed: u64,
    /// `stats` and `pushed` at the end of the last run of `CLEAN_RUN` correct bits.
    checkpoint: (PrbsStats, u64),
}

impl PrbsChecker {
    /// A checker searching for the pattern.
    pub fn new() -> PrbsChecker {
        PrbsChecker::default()
    }

    /// Checks one received bit.
    pub fn push(&mut self, bit: bool) {
        match self.local {
            Some(reg) => {
                let expected = feedback(reg);
                self.local = Some(((reg << 1) | u16::from(expected)) & MASK);
                let error = bit != expected;
                self.stats.bits += 1;
                self.stats.errors += u64::from(error);
                self.clean_run = if error { 0 } else { self.clean_run + 1 };
                self.window = (self.window << 1) | u64::from(error);
                if (self.window & WINDOW_MASK).count_ones() >= LOSS_ERRORS {
                    self.local = None;
                    self.run = 0;
                    self.stats.sync_losses += 1;
                }
            }
            None => {
                self.stats.unsynced_bits += 1;
                if self.filled >= 11 {
                    if bit == feedback(self.history) {
                        self.run += 1;
                    } else {
                        self.run = 0;
                    }
                }
            }
        }
        self.pushed += 1;
        if self.local.is_some() && self.clean_run >= CLEAN_RUN {
            self.checkpoint = (self.stats, self.pushed);
        }
        self.history = ((self.history << 1) | u16::from(bit)) & MASK;
        self.filled = (self.filled + 1).min(11);
        // An all-zero history predicts zeros forever: never lock on it (idle lines send
        // long runs of one value; all ones already fails the prediction).
        if self.local.is_none() && self.run >= SYNC_RUN && self.history != 0 {
            self.local = Some(self.history);
            self.window = 0;
            self.clean_run = 0;
            self.stats.syncs += 1;
        }
    }

    /// Whether the checker is locked to the pattern.
    pub fn is_locked(&self) -> bool {
        self.local.is_some()
    }

    /// The counts so far.
    pub fn stats(&self) -> PrbsStats {
        self.stats
    }

    /// The counts up to the end of the last run of [`CLEAN_RUN`] correct bits, with the bits
    /// after it in `trailing_bits`. A receiver goes on emitting bits after the transmission
    /// has ended, until it notices the carrier has gone; when the length of the data is not
    /// known, this keeps that noise from counting as bit errors. Before any such run, the
    /// plain counts.
    pub fn stats_to_last_clean_run(&self) -> PrbsStats {
        let (stats, pushed) = self.checkpoint;
        if pushed == 0 {
            return self.stats;
        }
        PrbsStats {
            trailing_bits: self.pushed - pushed,
            ..stats
        }
    }
}

impl RxSink for PrbsChecker {
    fn bit(&mut self, bit: bool) {
        self.push(bit);
    }

    fn event(&mut self, _event: RxEvent) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<bool> {
        let mut g = Prbs11::new();
        (0..n).map(|_| g.next_bit()).collect()
    }

    fn longest_run(bits: &[bool], value: bool) -> usize {
        let (mut best, mut cur) = (0, 0);
        // Twice round the period catches runs that wrap.
        for &b in bits.iter().chain(bits.iter()) {
            cur = if b == value { cur + 1 } else { 0 };
            best = best.max(cur);
        }
        best
    }

    #[test]
    fn period_is_2047_with_balanced_bits_and_o152_runs() {
        let bits = pattern(2 * PERIOD);
        assert_eq!(bits[..PERIOD], bits[PERIOD..]);
        // No shorter period: the register visits every non-zero state once.
        let mut g = Prbs11::new();
        let start = g.clone();
        let period = (1..=PERIOD)
            .find(|_| {
                g.next_bit();
                g == start
            })
            .unwrap();
        assert_eq!(period, PERIOD);
        let one = &bits[..PERIOD];
        assert_eq!(one.iter().filter(|&&b| b).count(), 1024);
        assert_eq!(longest_run(one, false), 10);
        assert_eq!(longest_run(one, true), 11);
    }

    #[test]
    fn every_bit_is_the_xor_of_the_9th_and_11th_before_it() {
        let bits = pattern(500);
        for n in 11..bits.len() {
            assert_eq!(bits[n], bits[n - 9] ^ bits[n - 11], "bit {n}");
        }
    }

    #[test]
    fn bounded_source_ends() {
        let mut src = PrbsSource::bounded(3);
        assert!(src.next_bit().is_some());
        assert!(src.next_bit().is_some());
        assert!(src.next_bit().is_some());
        assert_eq!(src.next_bit(), None);
        assert_eq!(src.next_bit(), None);
        let mut endless = PrbsSource::endless();
        assert!((0..10_000).all(|_| endless.next_bit().is_some()));
    }

    #[test]
    fn clean_stream_locks_quickly_and_counts_no_errors() {
        let mut c = PrbsChecker::new();
        for b in pattern(10_000) {
            c.push(b);
        }
        let s = c.stats();
        assert!(c.is_locked());
        assert_eq!(s.unsynced_bits, 11 + u64::from(SYNC_RUN));
        assert_eq!(s.bits + s.unsynced_bits, 10_000);
        assert_eq!((s.errors, s.syncs, s.sync_losses), (0, 1, 0));
        assert_eq!(s.ber(), Some(0.0));
    }

    #[test]
    fn locks_at_any_phase_of_the_pattern() {
        let bits = pattern(3 * PERIOD);
        for offset in [1, 100, 777, 2046] {
            let mut c = PrbsChecker::new();
            for &b in &bits[offset..] {
                c.push(b);
            }
            assert_eq!(c.stats().errors, 0, "offset {offset}");
            assert!(c.is_locked());
        }
    }

    #[test]
    fn injected_errors_are_counted_one_for_one() {
        let mut bits = pattern(20_000);
        let flipped: Vec<usize> = (1000..20_000).step_by(997).collect();
        for &i in &flipped {
            bits[i] = !bits[i];
        }
        let mut c = PrbsChecker::new();
        for b in bits {
            c.push(b);
        }
        let s = c.stats();
        assert_eq!(s.errors, flipped.len() as u64);
        assert_eq!(s.sync_losses, 0);
        let ber = s.ber().unwrap();
        assert!((ber - flipped.len() as f64 / s.bits as f64).abs() < 1e-12);
    }

    #[test]
    fn errors_during_search_delay_lock_but_are_not_counted() {
        let mut bits = pattern(2000);
        bits[20] = !bits[20];
        let mut c = PrbsChecker::new();
        for b in bits {
            c.push(b);
        }
        let s = c.stats();
        assert_eq!(s.errors, 0);
        assert!(s.unsynced_bits > 11 + u64::from(SYNC_RUN));
        assert_eq!(s.syncs, 1);
    }

    #[test]
    fn bit_slip_loses_lock_and_resyncs() {
        let mut bits = pattern(10_000);
        bits.remove(5000);
        let mut c = PrbsChecker::new();
        for b in bits {
            c.push(b);
        }
        let s = c.stats();
        assert_eq!((s.syncs, s.sync_losses), (2, 1));
        assert!(c.is_locked());
        // The slip costs at least the errors that trigger the loss, and a few more.
        assert!(
            s.errors >= u64::from(LOSS_ERRORS) && s.errors < 40,
            "{}",
            s.errors
        );
    }

    #[test]
    fn noise_after_the_data_is_trimmed() {
        let mut bits = pattern(5000);
        bits[3000] = !bits[3000];
        // What a receiver decodes after the carrier has gone: unrelated bits.
        let mut x: u32 = 12345;
        bits.extend((0..200).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            x >> 16 & 1 == 1
        }));
        let mut c = PrbsChecker::new();
        bits.iter().for_each(|&b| c.push(b));
        assert!(c.stats().errors > 16);
        let t = c.stats_to_last_clean_run();
        assert_eq!(t.errors, 1);
        // Noise bits that happen to match the pattern extend the last clean run a little.
        assert!(
            t.trailing_bits > 190 && t.trailing_bits <= 200,
            "{}",
            t.trailing_bits
        );
        assert_eq!(t.bits + t.unsynced_bits + t.trailing_bits, 5200);
        // A clean stream loses nothing.
        let mut c = PrbsChecker::new();
        pattern(1000).into_iter().for_each(|b| c.push(b));
        assert_eq!(c.stats_to_last_clean_run(), c.stats());
    }

    #[test]
    fn constant_and_alternating_streams_never_lock() {
        for stream in [vec![false; 5000], vec![true; 5000]] {
            let mut c = PrbsChecker::new();
            stream.iter().for_each(|&b| c.push(b));
            assert_eq!(c.stats().syncs, 0);
            assert_eq!(c.stats().ber(), None);
        }
        let mut c = PrbsChecker::new();
        (0..5000).for_each(|i| c.push(i % 2 == 0));
        assert_eq!(c.stats().syncs, 0);
    }

    #[test]
    fn random_data_drops_the_lock() {
        // Lock on the pattern, then feed xorshift bits, unrelated to the local copy.
        let mut c = PrbsChecker::new();
        pattern(200).into_iter().for_each(|b| c.push(b));
        assert!(c.is_locked());
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.push(x & 1 == 1);
        }
        assert!(!c.is_locked(), "random bits kept the lock");
        assert!(c.stats().sync_losses == 1);
    }

    #[test]
    fn works_as_an_rx_sink() {
        let mut c = PrbsChecker::new();
        let sink: &mut dyn RxSink = &mut c;
        sink.event(RxEvent::CarrierDown);
        for b in pattern(100) {
            sink.bit(b);
        }
        assert_eq!(c.stats().bits + c.stats().unsynced_bits, 100);
    }
}
