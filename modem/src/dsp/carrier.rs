//! Power measurement and carrier detection with hysteresis.

use crate::level::{DBM0_RMS, power_to_dbm0};

/// A one-pole running mean of the squared signal.
#[derive(Debug, Clone)]
pub struct PowerMeter {
    alpha: f32,
    power: f32,
}

impl PowerMeter {
    /// A meter whose averaging time constant is `samples` samples.
    pub fn new(samples: f32) -> Self {
        PowerMeter {
            alpha: 1.0 / samples.max(1.0),
            power: 0.0,
        }
    }

    /// Feeds one sample (16-bit units) and returns the mean square.
    #[inline]
    pub fn update(&mut self, x: f32) -> f32 {
        self.update_power(x * x)
    }

    /// Feeds the mean square of some samples (for a meter read once per group of them).
    #[inline]
    pub fn update_power(&mut self, mean_square: f32) -> f32 {
        self.power += (mean_square - self.power) * self.alpha;
        self.power
    }

    /// The mean square so far.
    pub fn power(&self) -> f32 {
        self.power
    }

    /// The level so far, in dBm0.
    pub fn dbm0(&self) -> f32 {
        power_to_dbm0(self.power)
    }

    /// Forgets the history.
    pub fn reset(&mut self) {
        self.power = 0.0;
    }
}

/// Carrier presence from signal power, with separate on and off thresholds so that a level
/// near one threshold does not chatter.
///
/// The power is read once per group of four samples (the mean square of the group, into a
/// one-pole meter with the time constant asked for), so changes fall on every fourth sample
/// counted from the detector's start or [`CarrierDetect::reset`], whatever the block sizes.
/// Reading per sample cost a receiver more time than any other single stage, for a change
/// that comes at most three samples (0.4 ms) sooner.
///
/// V.17, V.29 and V.27ter set the receiver's carrier-detect thresholds at −43 dBm0 (off to on)
/// and −48 dBm0 (on to off); V.21 at −43/−48 dBm0 likewise. Those are the defaults here.
///
/// On a line whose noise is near those levels a fixed off threshold would never see a carrier
/// go (noise at −45 dBm0 stays above −48 dBm0), so the off threshold also keeps clear of the
/// line's own floor: learnt while no carrier is present, the floor raises it to 3 dB above
/// itself when that is higher than the default. The on threshold stays where the
/// recommendations put it: receivers start on the first energy, as their training expects.
///
/// Noise louder than the on threshold (white noise at −42 dBm0 over the band, 32 dB under a
/// −10 dBm0 signal) raises the carrier by itself, and no floor can be learnt under it. So a
/// carrier also goes when the power falls under its own level (the mean power since it
/// came): 20 dB for 30 ms, or 6 dB for 100 ms (`DIP_RATIO`): a signal that ends leaves
/// only the noise. The line's level at that moment
/// is then noise, and a new carrier must rise 3 dB above it until the line falls quiet again.
#[derive(Debug, Clone)]
pub struct CarrierDetect {
    meter: PowerMeter,
    on_power: f32,
    off_power: f32,
    present: bool,
    /// Mean power while no carrier is present (the line's noise and echo).
    floor: f32,
    /// Samples the floor has learnt from (it averages them all until FLOOR_SAMPLES, so a
    /// receiver started just before a signal still knows the line).
    floor_count: f32,
    /// The off threshold in force while the carrier is present (the floor learns only
    /// while it is absent, so it is fixed when the carrier comes).
    off_now: f32,
    fall: CarrierFall,
    /// Sum of the squares of the current group's samples so far, and how many there are.
    group_sum: f32,
    group_fill: u32,
}

/// Samples per power reading of [`CarrierDetect`]: the meter and the rules read the mean
/// square of each group of four samples, half a millisecond, which costs a quarter of a
/// reading per sample and shifts a change by at most three samples.
const GROUP: u32 = 4;

/// The end of a carrier told by its fall under its own level, for lines whose noise is
/// louder than the on threshold (shared by the fast modems' detector and V.21's).
///
/// Each reading stands for `step` input samples (1 for a per-sample detector), so a
/// detector that reads its power once per block of samples keeps the same times.
#[derive(Debug, Clone)]
pub(crate) struct CarrierFall {
    /// Mean power since the carrier came (its level), the samples it averages and their
    /// reciprocal (the weight of a new reading, kept so the running mean needs no division
    /// per sample once the count stops growing).
    level: f32,
    level_count: f32,
    level_weight: f32,
    /// Consecutive samples the power has been 20 dB under the level.
    dropped: u32,
    /// Consecutive samples the power has been 6 dB under the level.
    dipped: u32,
    /// After a carrier went by its fall: the mean power of the line since (the noise a new
    /// carrier must rise 3 dB above); zero once it is 3 dB under the on threshold.
    noise: f32,
    /// Input samples per reading.
    step: u32,
}

impl Default for CarrierFall {
    fn default() -> Self {
        CarrierFall::with_step(1)
    }
}

impl CarrierFall {
    /// A rule fed one reading per `step` input samples.
    pub(crate) fn with_step(step: u32) -> Self {
        CarrierFall {
            level: 0.0,
            level_count: 0.0,
            level_weight: 0.0,
            dropped: 0,
            dipped: 0,
            noise: 0.0,
            step: step.max(1),
        }
    }

    /// The carrier came, at power `p`.
    pub(crate) fn start(&mut self, p: f32) {
        self.level = p;
        self.level_count = self.step as f32;
        self.level_weight = 1.0;
        self.dropped = 0;
        self.dipped = 0;
    }

    /// One power reading while the carrier is present (and above the off threshold):
    /// whether it has now ended by its fall. The level stops following while the power is
    /// down, so a long dip is measured against the signal, not against itself.
    #[inline]
    pub(crate) fn present(&mut self, p: f32) -> bool {
        if self.dipped == 0 {
            if self.level_count < LEVEL_SAMPLES {
                self.level_count += self.step as f32;
                self.level_weight = self.step as f32 / self.level_count;
            }
            self.level += (p - self.level) * self.level_weight;
        }
        if self.level_count < LEVEL_MIN_SAMPLES {
            return false;
        }
        if p < self.level * DIP_RATIO {
            self.dipped += self.step;
        } else {
            self.dipped = 0;
        }
        if p < self.level * DROP_RATIO {
            self.dropped += self.step;
        } else {
            self.dropped = 0;
        }
        if self.dropped >= DROP_HOLD_SAMPLES || self.dipped >= DIP_HOLD_SAMPLES {
            self.dropped = 0;
            self.dipped = 0;
            self.noise = p;
            return true;
        }
        false
    }

    /// Whether a reading that stays above the off threshold and not 6 dB under the level
    /// would only move the level: the level's weight has stopped changing and no dip or
    /// drop is being timed (a drop is always a dip too).
    #[inline]
    fn steady(&self) -> bool {
        self.level_count >= LEVEL_SAMPLES && self.dipped == 0 && self.dropped == 0
    }

    /// The carrier went by a threshold instead.
    pub(crate) fn clear_hold(&mut self) {
        self.dropped = 0;
        self.dipped = 0;
    }

    /// One power reading while no carrier is present: the power a new carrier must exceed
    /// (the on threshold `on`, or 3 dB over the noise a fall left behind).
    #[inline]
    pub(crate) fn on_threshold(&mut self, p: f32, on: f32) -> f32 {
        if self.noise > 0.0 {
            // Follow the noise left behind, slowly (its own fluctuations must not count as
            // a new carrier), until it is clearly under the on threshold.
            self.noise += (p - self.noise) * self.step as f32 / NOISE_SAMPLES;
            if self.noise < 0.5 * on {
                self.noise = 0.0;
            }
        }
        on.max(2.0 * self.noise)
    }
}

/// How far under its own level the power must fall for the carrier to go at once: 20 dB,
/// as a power ratio (a signal that ends on a quiet or moderately noisy line).
const DROP_RATIO: f32 = 0.01;
/// How long the power must stay 20 dB under the level, samples (30 ms): a packet lost
/// on a VoIP path and concealed with a fade dips for one frame and is no end of signal.
const DROP_HOLD_SAMPLES: u32 = 240;
/// A signal that ends over loud noise leaves a smaller fall, 10·log10(1 + SNR): 10.4 dB at
/// 10 dB SNR, the lowest any fax modem works at, and never 20 dB below 20 dB SNR. So a fall
/// of 6 dB ends the carrier too, but only when it lasts 100 ms: the fades and gaps of
/// concealed packet loss and of a jitter buffer that adapts are shorter.
const DIP_RATIO: f32 = 0.25;
const DIP_HOLD_SAMPLES: u32 = 800;
/// Samples of carrier before its level is trusted for the drop rule (25 ms), and the most the
/// level averages (a quarter of a second, so it follows a signal that came over noise).
const LEVEL_MIN_SAMPLES: f32 = 200.0;
const LEVEL_SAMPLES: f32 = 2000.0;
/// Time constant of the noise followed after a drop, samples (50 ms).
const NOISE_SAMPLES: f32 = 400.0;

/// Samples of line without carrier before the floor is trusted (50 ms).
const FLOOR_MIN_SAMPLES: f32 = 400.0;
/// Time constant of the floor estimate, samples (a quarter of a second).
const FLOOR_SAMPLES: f32 = 2000.0;
/// The floor never raises the off threshold above this (dBm0): anything louder is signal.
const FLOOR_CAP_DBM0: f32 = -33.0;

/// Default off-to-on threshold, dBm0.
pub const CARRIER_ON_DBM0: f32 = -43.0;
/// Default on-to-off threshold, dBm0.
pub const CARRIER_OFF_DBM0: f32 = -48.0;

/// The mean square of a group of samples, summed in order as [`CarrierDetect::update`] does.
#[inline(always)]
fn group_mean(group: &[i16]) -> f32 {
    let mut sum = 0.0;
    for &x in &group[..GROUP as usize] {
        let x = x as f32;
        sum += x * x;
    }
    sum * (1.0 / GROUP as f32)
}

fn dbm0_to_power(dbm0: f32) -> f32 {
    let rms = DBM0_RMS * 10f32.powf(dbm0 / 20.0);
    rms * rms
}

impl CarrierDetect {
    /// A detector with the V-series thresholds and a time constant of `samples`.
    pub fn new(samples: f32) -> Self {
        Self::with_thresholds(samples, CARRIER_ON_DBM0, CARRIER_OFF_DBM0)
    }

    /// A detector with explicit thresholds (dBm0).
    pub fn with_thresholds(samples: f32, on_dbm0: f32, off_dbm0: f32) -> Self {
        // One reading per group moves the meter as GROUP samples of a per-sample meter with
        // time constant `samples` would.
        let per_sample = 1.0 - 1.0 / samples.max(1.0) as f64;
        let per_group = 1.0 - per_sample.powi(GROUP as i32);
        CarrierDetect {
            meter: PowerMeter::new((1.0 / per_group) as f32),
            on_power: dbm0_to_power(on_dbm0),
            off_power: dbm0_to_power(off_dbm0),
            present: false,
            floor: 0.0,
            floor_count: 0.0,
            off_now: 0.0,
            fall: CarrierFall::with_step(GROUP),
            group_sum: 0.0,
            group_fill: 0,
        }
    }

    /// Feeds one sample; returns `Some(true)` when the carrier appears, `Some(false)` when it
    /// goes, `None` otherwise. Changes come on the last sample of a group.
    #[inline]
    pub fn update(&mut self, x: f32) -> Option<bool> {
        self.group_sum += x * x;
        self.group_fill += 1;
        if self.group_fill < GROUP {
            return None;
        }
        let mean = self.group_sum * (1.0 / GROUP as f32);
        self.group_sum = 0.0;
        self.group_fill = 0;
        self.reading(mean)
    }

    /// One group's mean square.
    #[inline]
    fn reading(&mut self, mean: f32) -> Option<bool> {
        let p = self.meter.update_power(mean);
        let on = self.on_power;
        if !self.present {
            if p < on {
                let cap = dbm0_to_power(FLOOR_CAP_DBM0) / 2.0;
                self.floor_count = (self.floor_count + GROUP as f32).min(FLOOR_SAMPLES);
                self.floor =
                    (self.floor + (p - self.floor) * GROUP as f32 / self.floor_count).min(cap);
            }
            if p > self.fall.on_threshold(p, on) {
                self.present = true;
                self.off_now = self.off_threshold();
                self.fall.start(p);
                return Some(true);
            }
            return None;
        }
        if p < self.off_now {
            self.fall.clear_hold();
            self.present = false;
            Some(false)
        } else if self.fall.present(p) {
            self.present = false;
            Some(false)
        } else {
            None
        }
    }

    /// Feeds samples until the carrier appears or goes: returns how many were taken and the
    /// change, which happened on the last of them (`None`: all taken, no change). The same
    /// as [`CarrierDetect::update`] sample by sample.
    pub fn scan(&mut self, samples: &[i16]) -> (usize, Option<bool>) {
        let mut i = 0;
        // The rest of a group begun in an earlier block.
        while self.group_fill != 0 && i < samples.len() {
            i += 1;
            if let Some(change) = self.update(samples[i - 1] as f32) {
                return (i, Some(change));
            }
        }
        while samples.len() - i >= GROUP as usize {
            if self.present && self.fall.steady() {
                i += self.scan_steady(&samples[i..]);
                if samples.len() - i < GROUP as usize {
                    break;
                }
            }
            let mean = group_mean(&samples[i..i + GROUP as usize]);
            i += GROUP as usize;
            if let Some(change) = self.reading(mean) {
                return (i, Some(change));
            }
        }
        while i < samples.len() {
            i += 1;
            if let Some(change) = self.update(samples[i - 1] as f32) {
                return (i, Some(change));
            }
        }
        (samples.len(), None)
    }

    /// [`CarrierDetect::reading`] for a present carrier whose level is settled and that is
    /// not dipping (the state of nearly every group of a signal), over whole groups that
    /// leave it that way: only the meter and the level move. Stops before the first group
    /// that would do more (fall under the off threshold, or dip under the level), leaving
    /// it to `reading`; returns how many samples were taken. The same operations as
    /// `reading`, so the same bits.
    fn scan_steady(&mut self, samples: &[i16]) -> usize {
        let alpha = self.meter.alpha;
        let weight = self.fall.level_weight;
        let off = self.off_now;
        let mut power = self.meter.power;
        let mut level = self.fall.level;
        let mut taken = 0;
        for group in samples.chunks_exact(GROUP as usize) {
            let p = power + (group_mean(group) - power) * alpha;
            if p < off {
                break;
            }
            let l = level + (p - level) * weight;
            // Not under 6 dB below the level, hence not under 20 dB below it either.
            if p < l * DIP_RATIO {
                break;
            }
            power = p;
            level = l;
            taken += GROUP as usize;
        }
        self.meter.power = power;
        self.fall.level = level;
        taken
    }

    /// The on-to-off threshold in force: the default, or 3 dB above the line's floor once
    /// that has been measured for a while (a few samples of a rising meter are no floor),
    /// always at least 1.5 dB under the on threshold so that some hysteresis is left.
    fn off_threshold(&self) -> f32 {
        if self.floor_count < FLOOR_MIN_SAMPLES {
            return self.off_power;
        }
        self.off_power
            .max(2.0 * self.floor)
            .min(self.on_power * 0.7)
    }

    /// Whether a carrier is present.
    pub fn present(&self) -> bool {
        self.present
    }

    /// The measured level, dBm0.
    pub fn dbm0(&self) -> f32 {
        self.meter.dbm0()
    }

    /// Forgets the history (but not the line's floor).
    pub fn reset(&mut self) {
        self.meter.reset();
        self.present = false;
        self.fall.clear_hold();
        self.group_sum = 0.0;
        self.group_fill = 0;
    }
}

/// A seeded uniform source on (0, 1] for the detector tests (a linear congruential
/// generator: the tests need repeatable noise, not good randomness).
#[cfg(test)]
pub(crate) struct TestUniform(u32);

#[cfg(test)]
impl TestUniform {
    pub(crate) fn new(seed: u32) -> Self {
        TestUniform(seed)
    }

    pub(crate) fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((self.0 >> 8) as f32 + 1.0) / (1u32 << 24) as f32
    }

    /// Near enough Gaussian with unit variance for a power test (a sum of 12 uniforms).
    pub(crate) fn gauss(&mut self) -> f32 {
        (0..12).map(|_| self.next()).sum::<f32>() - 6.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::Nco;
    use crate::level::dbm0_to_rms;

    /// Scanning a block gives the changes, at the same samples, and the same state as
    /// updating sample by sample.
    #[test]
    fn scan_matches_update() {
        let mut noise = TestUniform::new(99);
        let mut nco = Nco::new(1800.0);
        let mut signal = vec![];
        for (on, n, amp) in [
            (false, 3000, 0.0),
            (true, 9000, 3000.0),
            (false, 4000, 0.0),
            (true, 500, 30.0),
            (true, 6000, 2000.0),
            (false, 3000, 0.0),
        ] {
            for _ in 0..n {
                let s = if on { amp * nco.next_sin() } else { 0.0 };
                signal.push((s + 20.0 * noise.gauss()) as i16);
            }
        }
        for block in [1, 7, 160, 1000] {
            let mut a = CarrierDetect::new(40.0);
            let mut b = CarrierDetect::new(40.0);
            let mut want = vec![];
            for (i, &s) in signal.iter().enumerate() {
                if let Some(c) = a.update(s as f32) {
                    want.push((i, c));
                }
            }
            let mut got = vec![];
            let mut at = 0;
            for chunk in signal.chunks(block) {
                let mut rest = chunk;
                while !rest.is_empty() {
                    let (n, change) = b.scan(rest);
                    at += n;
                    if let Some(c) = change {
                        got.push((at - 1, c));
                    }
                    rest = &rest[n..];
                }
            }
            assert_eq!(got, want, "block {block}");
            assert!(want.len() >= 4, "{want:?}");
            assert_eq!(a.dbm0().to_bits(), b.dbm0().to_bits());
        }
    }

    #[test]
    fn hysteresis() {
        let mut cd = CarrierDetect::new(40.0);
        let mut nco = Nco::new(1000.0);
        let amp = |dbm0: f32| dbm0_to_rms(dbm0) * std::f32::consts::SQRT_2;
        let mut changes = vec![];
        for (dbm0, n) in [(-60.0, 800), (-40.0, 800), (-45.5, 800), (-50.0, 800)] {
            for _ in 0..n {
                if let Some(c) = cd.update(amp(dbm0) * nco.next_sin()) {
                    changes.push((dbm0, c));
                }
            }
        }
        assert_eq!(changes, vec![(-40.0, true), (-50.0, false)]);
    }

    /// Feeds `segments` of (carrier on?, samples) of a −`carrier_dbm0` 1800 Hz tone over
    /// white noise at `noise_dbm0`; returns each change as (segment, present, sample within
    /// the segment).
    fn changes_over_noise(
        segments: &[(bool, usize)],
        carrier_dbm0: f32,
        noise_dbm0: f32,
        seed: u32,
    ) -> Vec<(usize, bool, usize)> {
        let mut cd = CarrierDetect::new(40.0);
        let mut nco = Nco::new(1800.0);
        let mut noise = TestUniform::new(seed);
        let rms = dbm0_to_rms(noise_dbm0);
        let amp = dbm0_to_rms(carrier_dbm0) * std::f32::consts::SQRT_2;
        let mut changes = vec![];
        for (seg, &(on, n)) in segments.iter().enumerate() {
            for i in 0..n {
                let s = if on { amp * nco.next_sin() } else { 0.0 };
                if let Some(c) = cd.update(s + rms * noise.gauss()) {
                    changes.push((seg, c, i));
                }
            }
        }
        changes
    }

    /// Noise at −46 dBm0 sits above the −48 dBm0 off threshold (but below the −43 dBm0 on
    /// threshold): the detector must still see a −20 dBm0 carrier come and go over it, and
    /// never take the noise alone for a carrier.
    #[test]
    fn a_carrier_comes_and_goes_over_loud_noise() {
        let segments = [(false, 16000), (true, 8000), (false, 8000), (true, 8000)];
        let changes = changes_over_noise(&segments, -20.0, -46.0, 12345);
        let kinds: Vec<(usize, bool)> = changes.iter().map(|&(seg, c, _)| (seg, c)).collect();
        assert_eq!(kinds, vec![(1, true), (2, false), (3, true)], "{changes:?}");
        // Each change within 40 ms of the signal's own (the meter decays from -20 dBm0).
        assert!(changes.iter().all(|&(_, _, i)| i < 320), "{changes:?}");
    }

    /// Noise at −40 dBm0 is above the −43 dBm0 on threshold: it raises the carrier by
    /// itself, and a fixed off threshold would then hold it for ever. A −10 dBm0 burst over
    /// it must still be seen to end (its power falls 30 dB under the burst's level), the
    /// noise alone must not raise the carrier again, and the next burst must.
    #[test]
    fn a_burst_ends_over_noise_above_the_on_threshold() {
        let segments = [
            (false, 8000),
            (true, 8000),
            (false, 16000),
            (true, 8000),
            (false, 8000),
        ];
        let changes = changes_over_noise(&segments, -10.0, -40.0, 777);
        // Up on the noise at first (nothing tells it from a weak carrier yet), down within
        // 60 ms of each burst's end (the meter's fall by 20 dB, then the 30 ms hold), and up
        // again only for the second burst.
        let kinds: Vec<(usize, bool)> = changes.iter().map(|&(seg, c, _)| (seg, c)).collect();
        assert_eq!(
            kinds,
            vec![(0, true), (2, false), (3, true), (4, false)],
            "{changes:?}"
        );
        assert!(changes[1..].iter().all(|&(_, _, i)| i < 480), "{changes:?}");
    }

    /// White noise 12 dB under a −10 dBm0 carrier (SNR 12 dB in the band): the carrier's
    /// end leaves a fall of only 12.3 dB, never 20 dB. It must still be seen to go, within
    /// 150 ms (the meter's fall, then the 100 ms hold), and come back with the next burst.
    #[test]
    fn a_burst_ends_over_noise_12_db_under_it() {
        let segments = [(true, 8000), (false, 8000), (true, 8000), (false, 8000)];
        let changes = changes_over_noise(&segments, -10.0, -22.0, 4242);
        let kinds: Vec<(usize, bool)> = changes.iter().map(|&(seg, c, _)| (seg, c)).collect();
        assert_eq!(
            kinds,
            vec![(0, true), (1, false), (2, true), (3, false)],
            "{changes:?}"
        );
        assert!(
            changes[1..].iter().all(|&(_, _, i)| i < 1200),
            "{changes:?}"
        );
    }

    /// A carrier that dips 8 dB for 60 ms (a concealed packet loss, a jitter buffer
    /// stretching) over noise is still the same carrier.
    #[test]
    fn a_short_dip_is_no_end_of_carrier() {
        let mut cd = CarrierDetect::new(40.0);
        let mut nco = Nco::new(1800.0);
        let mut noise = TestUniform::new(99);
        let rms = dbm0_to_rms(-30.0);
        let amp = dbm0_to_rms(-10.0) * std::f32::consts::SQRT_2;
        let mut changes = vec![];
        for (gain, n) in [(1.0, 8000), (0.4, 480), (1.0, 8000)] {
            for _ in 0..n {
                if let Some(c) = cd.update(gain * amp * nco.next_sin() + rms * noise.gauss()) {
                    changes.push(c);
                }
            }
        }
        assert_eq!(changes, vec![true]);
    }
}
