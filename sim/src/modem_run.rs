//! Driving one modulator or demodulator over a whole signal, and BER sweeps through AWGN
//! (optionally with a carrier frequency offset and a sampling clock offset).

use channel_models::AudioStage;
use channel_models::line::{Awgn, ClockDrift, FrequencyShift};
use modem::prbs::{PrbsChecker, PrbsSource, PrbsStats};
use modem::{BitSource, ModemKind, Quality, Receiver, RxConfig, RxEvent, RxSink, TxConfig};
use serde::Serialize;

use crate::modems::{self, BuildError, Implementation};

/// Samples per processing block (20 ms, as the call runner uses).
pub const BLOCK: usize = 160;
/// Silence fed to a receiver after the signal so its delay lines drain (500 ms).
pub const FLUSH: usize = 4000;

/// Blocks below this mean power (dBm0) do not carry signal, for quality snapshots.
const SIGNAL_DBM0: f32 = -50.0;

/// Mean power of a block, dBm0.
fn block_dbm0(block: &[i16]) -> f32 {
    let sum: f64 = block.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let mean = (sum / block.len().max(1) as f64) as f32;
    modem::level::power_to_dbm0(mean)
}

/// Sends a file's bytes, least significant bit first.
#[derive(Debug, Clone)]
pub struct ByteSource<'a> {
    bytes: &'a [u8],
    next: usize,
}

impl<'a> ByteSource<'a> {
    /// A source over `bytes`.
    pub fn new(bytes: &'a [u8]) -> ByteSource<'a> {
        ByteSource { bytes, next: 0 }
    }
}

impl BitSource for ByteSource<'_> {
    fn next_bit(&mut self) -> Option<bool> {
        let byte = self.bytes.get(self.next / 8)?;
        let bit = byte >> (self.next % 8) & 1 == 1;
        self.next += 1;
        Some(bit)
    }
}

/// Packs bits into bytes, least significant bit first; a partial last byte is dropped.
pub fn pack_lsb_first(bits: &[bool]) -> Vec<u8> {
    bits.chunks_exact(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << i))
        })
        .collect()
}

/// Runs a transmitter to the end of `src`, returning its samples. Stops with an error if it
/// has not finished after `max_samples`.
pub fn transmit(
    tx: &mut dyn modem::Transmitter,
    src: &mut dyn BitSource,
    max_samples: usize,
) -> Result<Vec<i16>, String> {
    let mut out = Vec::new();
    let mut block = [0i16; BLOCK];
    while !tx.is_finished() {
        if out.len() >= max_samples {
            return Err(format!(
                "the transmitter had not finished after {max_samples} samples"
            ));
        }
        let n = tx.fill(&mut block, src);
        out.extend_from_slice(&block[..n]);
        if n == 0 && !tx.is_finished() {
            return Err("the transmitter stopped producing samples without finishing".into());
        }
    }
    Ok(out)
}

/// What a receiver made of a signal.
#[derive(Debug, Clone, Default)]
pub struct Reception {
    /// Training succeeded at least once (for V.21: carrier was detected).
    pub trained: bool,
    /// Carrier detections.
    pub carrier_ups: u32,
    /// Training failures.
    pub training_failures: u32,
    /// Data bits delivered.
    pub bits: u64,
    /// The bits themselves, when asked for.
    pub data: Vec<bool>,
    /// PRBS counts, when asked for.
    pub prbs: Option<PrbsStats>,
    /// The receiver's quality estimate (see [`receive`]).
    pub quality: Quality,
}

/// What [`receive`] should do with the bits.
#[derive(Debug, Clone, Copy, Default)]
pub struct RxOptions {
    /// Check the bits against the 2^11−1 pattern.
    pub prbs: bool,
    /// Stop comparing after this many bits (a sweep knows how many it sent); `None`: count
    /// to the last clean run, so bits decoded after the transmission are not errors.
    pub prbs_limit: Option<u64>,
    /// Keep the bits.
    pub keep_bits: bool,
}

struct Collector {
    kind: ModemKind,
    opts: RxOptions,
    checker: PrbsChecker,
    rx: Reception,
    in_carrier: bool,
    trained_now: bool,
}

impl RxSink for Collector {
    fn bit(&mut self, bit: bool) {
        self.rx.bits += 1;
        if self.opts.keep_bits {
            self.rx.data.push(bit);
        }
        if self.opts.prbs
            && self
                .opts
                .prbs_limit
                .is_none_or(|n| self.checker.stats().bits < n)
        {
            self.checker.push(bit);
        }
    }

    fn event(&mut self, event: RxEvent) {
        match event {
            RxEvent::CarrierUp { .. } => {
                self.rx.carrier_ups += 1;
                self.in_carrier = true;
                if !modems::has_training(self.kind) {
                    self.rx.trained = true;
                    self.trained_now = true;
                }
            }
            RxEvent::CarrierDown => {
                self.in_carrier = false;
                self.trained_now = false;
            }
            RxEvent::TrainingSucceeded { .. } => {
                self.rx.trained = true;
                self.trained_now = true;
            }
            RxEvent::TrainingFailed => self.rx.training_failures += 1,
        }
    }
}

/// Feeds `samples` (then [`FLUSH`] samples of silence) to `rx` in 20 ms blocks.
///
/// The reported quality is the receiver's last estimate taken at the end of a block that
/// carried signal while the receiver was trained and had carrier (the level decays once the
/// signal has gone, before the receiver declares carrier loss), except the SNR, which is its final
/// estimate when it has one. Without any trained block, the final estimate.
pub fn receive(
    rx: &mut dyn Receiver,
    kind: ModemKind,
    samples: &[i16],
    opts: RxOptions,
) -> Reception {
    let mut c = Collector {
        kind,
        opts,
        checker: PrbsChecker::new(),
        rx: Reception::default(),
        in_carrier: false,
        trained_now: false,
    };
    let mut during = None;
    let mut latest = None;
    let silence = [0i16; BLOCK];
    let tail = std::iter::repeat_n(&silence[..], FLUSH / BLOCK);
    for block in samples.chunks(BLOCK).chain(tail) {
        rx.process(block, &mut c);
        if c.trained_now && c.in_carrier && block_dbm0(block) > SIGNAL_DBM0 {
            // One block behind, so the block where the signal ends does not count.
            during = latest.replace(rx.quality()).or(during);
        }
    }
    let end = rx.quality();
    let q = match during {
        // Everything as it was while the signal was there: by the time the carrier is seen
        // to go, the receiver's running SNR has taken in the symbols of the signal's end
        // (a clean V.27ter signal read 11 dB instead of over 40).
        Some(d) => Quality {
            snr_db: if d.snr_db.is_finite() {
                d.snr_db
            } else {
                end.snr_db
            },
            ..d
        },
        None => end,
    };
    c.rx.quality = q;
    if opts.prbs {
        c.rx.prbs = Some(match opts.prbs_limit {
            Some(_) => c.checker.stats(),
            None => c.checker.stats_to_last_clean_run(),
        });
    }
    c.rx
}

/// A BER sweep's settings.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// The modem.
    pub kind: ModemKind,
    /// Bit rate.
    pub rate: u32,
    /// Transmit level, dBm0 (the AWGN level is set relative to it).
    pub level_dbm0: f32,
    /// Bits compared per point.
    pub bits: u64,
    /// Noise seed (the same noise for every path at a point).
    pub seed: u64,
    /// SNRs to measure, dB over the full 0–4000 Hz band.
    pub snrs_db: Vec<f64>,
    /// Noise-only samples before the signal starts (silence a transmitter emits before its
    /// first symbol is dropped first).
    pub lead_in: usize,
    /// Carrier frequency offset applied to every signal before the noise, Hz.
    pub freq_offset_hz: f64,
    /// Sampling clock offset applied to every signal before the noise, ppm.
    pub clock_ppm: f64,
    /// (transmitter, receiver) pairs to measure.
    pub paths: Vec<(Implementation, Implementation)>,
}

/// One path at one SNR.
#[derive(Debug, Clone, Serialize)]
pub struct PathPoint {
    /// Transmitter implementation.
    pub tx: &'static str,
    /// Receiver implementation.
    pub rx: &'static str,
    /// Why the path could not run, if it could not.
    pub unavailable: Option<String>,
    /// The receiver trained (V.21: detected carrier).
    pub trained: bool,
    /// Bits compared with the pattern (at most the configured number).
    pub bits: u64,
    /// Bit errors among them.
    pub bit_errors: u64,
    /// Bit error ratio over the compared bits; `None` when none were compared.
    pub ber: Option<f64>,
    /// Times the checker lost the pattern.
    pub sync_losses: u64,
    /// All configured bits were compared and none was wrong.
    pub error_free: bool,
    /// Noise seeds this point sums (1 unless [`sweep_seeds`] ran several).
    pub runs: u32,
    /// Of them, the runs with every bit compared and none wrong.
    pub error_free_runs: u32,
    /// The receiver's carrier frequency offset estimate while the signal was there, Hz
    /// (`None` when it has none).
    pub est_carrier_offset_hz: Option<f32>,
    /// The receiver's sampling clock offset estimate while the signal was there, ppm.
    pub est_clock_ppm: Option<f32>,
}

fn finite(x: f32) -> Option<f32> {
    x.is_finite().then_some(x)
}

/// `samples` shifted by `hz` and then resampled `ppm` off the nominal clock; a zero offset
/// leaves the samples as they are.
pub fn offset_line(samples: Vec<i16>, hz: f64, ppm: f64) -> Vec<i16> {
    let mut cur = samples;
    if hz != 0.0 {
        let mut out = Vec::with_capacity(cur.len());
        FrequencyShift::new(hz).process(&cur, &mut out);
        cur = out;
    }
    if ppm != 0.0 {
        let mut out = Vec::with_capacity(cur.len() + cur.len() / 1000 + 16);
        ClockDrift::new(ppm).process(&cur, &mut out);
        cur = out;
    }
    cur
}

/// A sweep's results: one row per SNR, one entry per path.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// SNR, dB.
    pub snr_db: f64,
    /// Results in the order of [`SweepConfig::paths`].
    pub paths: Vec<PathPoint>,
}

/// Extra pattern bits sent after the counted ones, so a receiver that syncs late still
/// delivers the full count and what it decodes after the carrier is gone is never counted.
pub fn guard_bits(bits: u64) -> u64 {
    512 + bits / 50
}

/// Runs a BER sweep. Fails only when no path can run at all (the first path's reason is
/// given).
pub fn sweep(cfg: &SweepConfig) -> Result<Vec<SweepPoint>, BuildError> {
    let tx_cfg = TxConfig {
        rate: cfg.rate,
        short_train: false,
        level_dbm0: cfg.level_dbm0,
    };
    let rx_cfg = RxConfig {
        rate: cfg.rate,
        short_train: false,
    };
    let sent = cfg.bits + guard_bits(cfg.bits);
    // Generous: the data time twice over plus 10 s for training and closing.
    let max_samples = (sent * 8000 / u64::from(cfg.rate)) as usize * 2 + 80_000;
    let mut signals: Vec<(Implementation, Result<Vec<i16>, BuildError>)> = Vec::new();
    for &(tx_imp, _) in &cfg.paths {
        if signals.iter().any(|(imp, _)| *imp == tx_imp) {
            continue;
        }
        let signal = modems::make_tx(tx_imp, cfg.kind, &tx_cfg).and_then(|mut tx| {
            let mut src = PrbsSource::bounded(sent);
            let mut samples = vec![0i16; cfg.lead_in];
            let body = transmit(tx.as_mut(), &mut src, max_samples).map_err(|e| {
                BuildError::Unavailable(format!("{} transmitter: {e}", tx_imp.name()))
            })?;
            // Silence a transmitter emits before its first symbol is not signal: the
            // noise-only time before the signal is the lead-in, the same for every transmitter.
            let start = body.iter().position(|&x| x != 0).unwrap_or(body.len());
            samples.extend_from_slice(&body[start..]);
            samples.extend(std::iter::repeat_n(0, FLUSH));
            Ok(offset_line(samples, cfg.freq_offset_hz, cfg.clock_ppm))
        });
        signals.push((tx_imp, signal));
    }
    // Build each receiver once up front: a path whose transmitter or receiver cannot be built
    // (not in this build, or a rate only one implementation has) is reported unavailable.
    let mut rx_ok: Vec<(Implementation, Result<(), BuildError>)> = Vec::new();
    for &(_, rx_imp) in &cfg.paths {
        if rx_ok.iter().any(|(imp, _)| *imp == rx_imp) {
            continue;
        }
        let r = modems::make_rx(rx_imp, cfg.kind, &rx_cfg).map(|_| ());
        rx_ok.push((rx_imp, r));
    }
    let usable = |tx: Implementation, rx: Implementation| -> Result<(), BuildError> {
        let t = &signals
            .iter()
            .find(|(i, _)| *i == tx)
            .expect("signal built")
            .1;
        let r = &rx_ok
            .iter()
            .find(|(i, _)| *i == rx)
            .expect("receiver checked")
            .1;
        t.as_ref().map(|_| ()).map_err(Clone::clone)?;
        r.clone()
    };
    let reasons: Vec<Result<(), BuildError>> =
        cfg.paths.iter().map(|&(t, r)| usable(t, r)).collect();
    if let Some(Err(first)) = reasons.first()
        && reasons.iter().all(Result::is_err)
    {
        return Err(first.clone());
    }

    let mut points = Vec::new();
    for &snr in &cfg.snrs_db {
        let mut paths = Vec::new();
        let mut noisy_cache: Vec<(Implementation, Vec<i16>)> = Vec::new();
        for &(tx_imp, rx_imp) in &cfg.paths {
            let mut point = PathPoint {
                tx: tx_imp.name(),
                rx: rx_imp.name(),
                unavailable: None,
                trained: false,
                bits: 0,
                bit_errors: 0,
                ber: None,
                sync_losses: 0,
                error_free: false,
                runs: 1,
                error_free_runs: 0,
                est_carrier_offset_hz: None,
                est_clock_ppm: None,
            };
            if let Err(e) = usable(tx_imp, rx_imp) {
                point.unavailable = Some(e.to_string());
                paths.push(point);
                continue;
            }
            if !noisy_cache.iter().any(|(i, _)| *i == tx_imp) {
                let clean = signals
                    .iter()
                    .find(|(i, _)| *i == tx_imp)
                    .and_then(|(_, s)| s.as_ref().ok())
                    .expect("usable path has a signal");
                let mut awgn = Awgn::with_snr(snr, f64::from(cfg.level_dbm0), cfg.seed);
                let mut noisy = Vec::with_capacity(clean.len());
                awgn.process(clean, &mut noisy);
                noisy_cache.push((tx_imp, noisy));
            }
            let noisy = &noisy_cache
                .iter()
                .find(|(i, _)| *i == tx_imp)
                .expect("cached")
                .1;
            let mut rx =
                modems::make_rx(rx_imp, cfg.kind, &rx_cfg).expect("receiver was built before");
            let r = receive(
                rx.as_mut(),
                cfg.kind,
                noisy,
                RxOptions {
                    prbs: true,
                    prbs_limit: Some(cfg.bits),
                    keep_bits: false,
                },
            );
            let stats = r.prbs.unwrap_or_default();
            point.trained = r.trained;
            point.bits = stats.bits;
            point.bit_errors = stats.errors;
            point.ber = stats.ber();
            point.sync_losses = stats.sync_losses;
            point.error_free = stats.bits == cfg.bits && stats.errors == 0;
            point.error_free_runs = u32::from(point.error_free);
            point.est_carrier_offset_hz = finite(r.quality.carrier_offset_hz);
            point.est_clock_ppm = finite(r.quality.timing_offset_ppm);
            paths.push(point);
        }
        points.push(SweepPoint { snr_db: snr, paths });
    }
    Ok(points)
}

/// [`sweep`] on `seeds` noise seeds from `cfg.seed` up, each point and path summed over them:
/// bits, errors and sync losses added, the BER over the sum, trained and error-free only when
/// every run was, and how many runs were error-free. Near the edge whether one run of N bits is
/// clean is luck; the count says how much. The receiver's estimates are the first seed's. The
/// seeds run in parallel (rayon's pool) and are summed in seed order, so the result is the same
/// whatever the number of threads.
pub fn sweep_seeds(cfg: &SweepConfig, seeds: u32) -> Result<Vec<SweepPoint>, BuildError> {
    use rayon::prelude::*;
    let runs: Vec<Vec<SweepPoint>> = (0..u64::from(seeds.max(1)))
        .into_par_iter()
        .map(|k| {
            sweep(&SweepConfig {
                seed: cfg.seed.wrapping_add(k),
                ..cfg.clone()
            })
        })
        .collect::<Result<_, _>>()?;
    let mut runs = runs.into_iter();
    let mut total = runs.next().expect("at least one seed");
    for run in runs {
        for (acc, point) in total.iter_mut().zip(run) {
            for (a, p) in acc.paths.iter_mut().zip(point.paths) {
                if a.unavailable.is_some() {
                    continue;
                }
                a.trained &= p.trained;
                a.bits += p.bits;
                a.bit_errors += p.bit_errors;
                a.sync_losses += p.sync_losses;
                a.error_free &= p.error_free;
                a.runs += 1;
                a.error_free_runs += p.error_free_runs;
                a.ber = (a.bits > 0).then(|| a.bit_errors as f64 / a.bits as f64);
            }
        }
    }
    Ok(total)
}

/// Per path, the lowest SNR from which every higher SNR of the sweep was error-free
/// (`None` if the highest was not).
pub fn thresholds(cfg: &SweepConfig, points: &[SweepPoint]) -> Vec<Option<f64>> {
    let mut sorted: Vec<&SweepPoint> = points.iter().collect();
    sorted.sort_by(|a, b| a.snr_db.total_cmp(&b.snr_db));
    (0..cfg.paths.len())
        .map(|p| {
            let mut best = None;
            for point in sorted.iter().rev() {
                if point.paths[p].error_free {
                    best = Some(point.snr_db);
                } else {
                    break;
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(snr_db: f64, error_free: &[bool]) -> SweepPoint {
        SweepPoint {
            snr_db,
            paths: error_free
                .iter()
                .map(|&ok| PathPoint {
                    tx: "ours",
                    rx: "ours",
                    unavailable: None,
                    trained: true,
                    bits: 1000,
                    bit_errors: u64::from(!ok),
                    ber: Some(if ok { 0.0 } else { 1e-3 }),
                    sync_losses: 0,
                    error_free: ok,
                    runs: 1,
                    error_free_runs: u32::from(ok),
                    est_carrier_offset_hz: None,
                    est_clock_ppm: None,
                })
                .collect(),
        }
    }

    #[test]
    fn threshold_is_the_start_of_the_error_free_run_at_the_top() {
        let cfg = SweepConfig {
            kind: ModemKind::V29,
            rate: 9600,
            level_dbm0: -10.0,
            bits: 1000,
            seed: 1,
            snrs_db: vec![],
            lead_in: 0,
            freq_offset_hz: 0.0,
            clock_ppm: 0.0,
            paths: vec![(Implementation::Ours, Implementation::Ours); 3],
        };
        // Path 0: clean from 12 dB; path 1: a lucky clean point at 10 dB below an errored
        // one at 11 dB, so only 12 dB counts; path 2: errors at the top.
        let points = vec![
            point(13.0, &[true, true, false]),
            point(10.0, &[false, true, true]),
            point(12.0, &[true, true, true]),
            point(11.0, &[false, false, true]),
        ];
        assert_eq!(thresholds(&cfg, &points), [Some(12.0), Some(12.0), None]);
    }

    #[test]
    fn bytes_go_out_lsb_first_and_pack_back() {
        let bytes = [0x01u8, 0x80, 0xa5];
        let mut src = ByteSource::new(&bytes);
        let bits: Vec<bool> = std::iter::from_fn(|| src.next_bit()).collect();
        assert_eq!(bits.len(), 24);
        assert!(bits[0] && !bits[1] && bits[15] && !bits[8]);
        assert_eq!(pack_lsb_first(&bits), bytes);
        assert_eq!(pack_lsb_first(&bits[..20]), bytes[..2]);
    }
}
