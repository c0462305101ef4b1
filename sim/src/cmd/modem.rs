//! `faxsim modem tx|rx|ber`: raw modem I/O through WAV files, and BER sweeps through AWGN
//! with optional carrier and clock offsets.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use modem::prbs::PrbsSource;
use modem::{BitSource, ModemKind, RxConfig, TxConfig};
use serde::Serialize;

use super::CliError;
use crate::modem_run::{self, ByteSource, RxOptions, SweepConfig, SweepPoint};
use crate::modems::{self, BuildError, Implementation};
use crate::wav::{self, WavAudio};

/// `faxsim modem`: run one modem on its own.
#[derive(Debug, Args)]
pub struct ModemArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ModemAction,
}

/// The `faxsim modem` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModemAction {
    /// Modulate PRBS or a file's bytes into an 8 kHz mono 16-bit WAV file.
    Tx(TxArgs),
    /// Demodulate a WAV file and print one JSON object of what was received.
    Rx(RxArgs),
    /// Measure bit error ratio against SNR through additive white Gaussian noise.
    Ber(BerArgs),
}

/// Modem names on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModemName {
    /// V.21 channel 2 (the T.30 control channel), 300 bit/s.
    V21,
    /// V.21 channel 1, 300 bit/s.
    V21ch1,
    /// V.27ter, 2400/4800 bit/s.
    V27ter,
    /// V.29, 7200/9600 bit/s (spandsp also 4800).
    V29,
    /// V.17, 7200/9600/12000/14400 bit/s.
    V17,
}

impl ModemName {
    /// The modem kind.
    pub fn kind(self) -> ModemKind {
        match self {
            ModemName::V21 => ModemKind::V21Ch2,
            ModemName::V21ch1 => ModemKind::V21Ch1,
            ModemName::V27ter => ModemKind::V27ter,
            ModemName::V29 => ModemKind::V29,
            ModemName::V17 => ModemKind::V17,
        }
    }
}

/// Peer implementations that can stand in for ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeerName {
    /// spandsp (libspandsp.so.2, Debian package libspandsp2).
    Spandsp,
}

/// Which channel of a stereo file to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChannelName {
    /// The first channel (also the only one of a mono file).
    Left,
    /// The second channel.
    Right,
}

/// `faxsim modem tx`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("payload").required(true).args(["prbs", "data"])))]
pub struct TxArgs {
    /// The modem.
    #[arg(long, value_enum)]
    pub modem: ModemName,
    /// Bit rate (default: the modem's highest).
    #[arg(long, value_name = "BPS")]
    pub rate: Option<u32>,
    /// Send the short training (V.17).
    #[arg(long)]
    pub short_train: bool,
    /// Transmit level, dBm0.
    #[arg(long, value_name = "DBM0", default_value_t = modem::level::DEFAULT_TX_DBM0, allow_negative_numbers = true)]
    pub level: f32,
    /// Send this many seconds of the O.152 2^11−1 PRBS.
    #[arg(long, value_name = "SECONDS")]
    pub prbs: Option<f64>,
    /// Send this file's bytes, least significant bit first.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Use this implementation instead of ours.
    #[arg(long, value_enum)]
    pub peer: Option<PeerName>,
    /// The WAV file to write.
    #[arg(long, value_name = "FILE.wav")]
    pub out: PathBuf,
}

/// `faxsim modem rx`.
#[derive(Debug, Args)]
pub struct RxArgs {
    /// The modem.
    #[arg(long, value_enum)]
    pub modem: ModemName,
    /// Bit rate (default: the modem's highest).
    #[arg(long, value_name = "BPS")]
    pub rate: Option<u32>,
    /// Check the received bits against the O.152 2^11−1 PRBS and report errors and BER.
    #[arg(long)]
    pub prbs: bool,
    /// Write the received bits to this file, packed least significant bit first.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The channel of a stereo file to demodulate.
    #[arg(long, value_enum, default_value = "left")]
    pub channel: ChannelName,
    /// Use this implementation instead of ours.
    #[arg(long, value_enum)]
    pub peer: Option<PeerName>,
    /// The WAV file: PCM 8/16/24/32-bit, float, A-law or µ-law, any rate, mono or stereo.
    #[arg(value_name = "IN.wav")]
    pub input: PathBuf,
}

/// `faxsim modem ber`.
#[derive(Debug, Args)]
pub struct BerArgs {
    /// The modem.
    #[arg(long, value_enum)]
    pub modem: ModemName,
    /// Bit rate (default: the modem's highest).
    #[arg(long, value_name = "BPS")]
    pub rate: Option<u32>,
    /// SNRs to measure, dB over the 0–4000 Hz band: FROM..TO:STEP, FROM..TO (step 1) or one value.
    #[arg(long, value_name = "FROM..TO:STEP", allow_hyphen_values = true)]
    pub snr: String,
    /// PRBS bits compared at each SNR.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub bits: u64,
    /// Noise seed (every path at one SNR sees the same noise).
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Repeat every point on this many noise seeds (S, S+1, …) and sum them: each cell then
    /// also counts its error-free runs, and `--threshold` asks for every run to be clean.
    /// Near the edge one run of N bits is clean or not by luck.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub seeds: u32,
    /// Transmit level, dBm0.
    #[arg(long, value_name = "DBM0", default_value_t = modem::level::DEFAULT_TX_DBM0, allow_negative_numbers = true)]
    pub level: f32,
    /// Noise alone before the signal starts, ms (silence a transmitter emits before its first
    /// symbol is dropped first). Off by default: at most SNRs of interest
    /// the noise is above the −43 dBm0 carrier-detect threshold, so a lead-in measures how a
    /// receiver copes with training on noise rather than its bit error ratio.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub lead_in_ms: u32,
    /// Carrier frequency offset of the line, Hz (−100 to 100), applied to every path's signal
    /// before the noise.
    #[arg(
        long,
        value_name = "HZ",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub freq_offset_hz: f64,
    /// Sampling clock offset of the line, ppm (−1000 to 1000), applied to every path's signal
    /// before the noise.
    #[arg(
        long,
        value_name = "PPM",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub clock_ppm: f64,
    /// Also measure against this implementation: its TX into our RX, our TX into its RX, and
    /// its TX into its RX.
    #[arg(long, value_enum)]
    pub peer: Option<PeerName>,
    /// Also report, per path, the lowest SNR from which all N bits arrive error-free at every
    /// higher SNR of the range.
    #[arg(long)]
    pub threshold: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `faxsim modem …`.
pub fn run(args: ModemArgs) -> Result<(), CliError> {
    match args.action {
        ModemAction::Tx(a) => tx(a),
        ModemAction::Rx(a) => rx(a),
        ModemAction::Ber(a) => ber(a),
    }
}

fn implementation(peer: Option<PeerName>) -> Implementation {
    match peer {
        None => Implementation::Ours,
        Some(PeerName::Spandsp) => Implementation::Spandsp,
    }
}

fn rate_of(kind: ModemKind, rate: Option<u32>) -> u32 {
    rate.unwrap_or_else(|| *kind.rates().last().expect("every modem has a rate"))
}

fn build_error(e: BuildError) -> CliError {
    match e {
        BuildError::Config(m) => CliError::usage(m),
        BuildError::Unavailable(m) => CliError::failure(m),
    }
}

fn tx(a: TxArgs) -> Result<(), CliError> {
    let kind = a.modem.kind();
    let imp = implementation(a.peer);
    let cfg = TxConfig {
        rate: rate_of(kind, a.rate),
        short_train: a.short_train,
        level_dbm0: a.level,
    };
    let bytes;
    let (mut src, bits): (Box<dyn BitSource>, u64) = match (&a.prbs, &a.data) {
        (Some(seconds), _) => {
            if !(seconds.is_finite() && *seconds > 0.0 && *seconds <= 3600.0) {
                return Err(CliError::usage(format!(
                    "--prbs {seconds}: give a duration between 0 and 3600 seconds"
                )));
            }
            let bits = (seconds * f64::from(cfg.rate)).round() as u64;
            (Box::new(PrbsSource::bounded(bits)), bits)
        }
        (None, Some(path)) => {
            bytes = std::fs::read(path)
                .map_err(|e| CliError::usage(format!("{}: cannot read: {e}", path.display())))?;
            (Box::new(ByteSource::new(&bytes)), bytes.len() as u64 * 8)
        }
        (None, None) => return Err(CliError::usage("give --prbs SECONDS or --data FILE")),
    };
    let mut modulator = modems::make_tx(imp, kind, &cfg).map_err(build_error)?;
    let max_samples = (bits * 8000 / u64::from(cfg.rate)) as usize * 2 + 80_000;
    let samples = modem_run::transmit(modulator.as_mut(), src.as_mut(), max_samples)
        .map_err(|e| CliError::failure(format!("{} transmitter: {e}", imp.name())))?;
    wav::write_8k_mono(&a.out, &samples).map_err(|e| CliError::failure(e.to_string()))?;
    println!(
        "{}: {} {} bit/s ({}), {bits} data bits, {} samples ({:.3} s)",
        a.out.display(),
        kind.name(),
        cfg.rate,
        imp.name(),
        samples.len(),
        samples.len() as f64 / 8000.0
    );
    Ok(())
}

/// The JSON `faxsim modem rx` prints. NaN estimates become `null`.
#[derive(Debug, Serialize)]
pub struct RxReport {
    /// The receiver trained (V.21: detected carrier).
    pub trained: bool,
    /// Data bits delivered.
    pub bits: u64,
    /// PRBS bit errors (with `--prbs`).
    pub bit_errors: Option<u64>,
    /// PRBS bit error ratio (with `--prbs`, once the pattern was found).
    pub ber: Option<f64>,
    /// The receiver's SNR estimate, dB.
    pub snr_db: Option<f32>,
    /// The receiver's carrier frequency offset estimate, Hz.
    pub carrier_offset_hz: Option<f32>,
    /// The receiver's signal level estimate, dBm0.
    pub level_dbm0: Option<f32>,
    /// Bits compared with the PRBS (with `--prbs`).
    pub prbs_bits: Option<u64>,
    /// Times the PRBS checker lost the pattern (with `--prbs`).
    pub prbs_sync_losses: Option<u64>,
    /// Bits after the last clean PRBS run, not counted (with `--prbs`): what the receiver
    /// decoded after the transmission ended.
    pub prbs_trailing_bits: Option<u64>,
    /// Carrier detections.
    pub carrier_ups: u32,
    /// Training failures.
    pub training_failures: u32,
    /// The modem.
    pub modem: &'static str,
    /// Bit rate.
    pub rate: u32,
    /// The receiving implementation.
    pub receiver: &'static str,
    /// The input file.
    pub file: String,
    /// The channel used (0 = left).
    pub channel: u16,
    /// The input's encoding, rate and length.
    pub input: InputInfo,
}

/// What the input file was.
#[derive(Debug, Serialize)]
pub struct InputInfo {
    /// Sample encoding.
    pub encoding: String,
    /// Sample rate, Hz (resampled to 8000 Hz when different).
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
    /// Duration, s.
    pub duration_s: f64,
}

fn finite(x: f32) -> Option<f32> {
    x.is_finite().then_some(x)
}

fn rx(a: RxArgs) -> Result<(), CliError> {
    let kind = a.modem.kind();
    let imp = implementation(a.peer);
    let cfg = RxConfig {
        rate: rate_of(kind, a.rate),
        short_train: false,
    };
    let audio = WavAudio::read(&a.input).map_err(|e| CliError::usage(e.to_string()))?;
    let channel = match a.channel {
        ChannelName::Left => 0,
        ChannelName::Right => 1,
    };
    let samples = audio
        .to_8k(channel)
        .map_err(|e| CliError::usage(format!("{}: {e}", a.input.display())))?;
    let mut demodulator = modems::make_rx(imp, kind, &cfg).map_err(build_error)?;
    let r = modem_run::receive(
        demodulator.as_mut(),
        kind,
        &samples,
        RxOptions {
            prbs: a.prbs,
            prbs_limit: None,
            keep_bits: a.out.is_some(),
        },
    );
    if let Some(out) = &a.out {
        write_file(out, &modem_run::pack_lsb_first(&r.data))?;
    }
    let report = RxReport {
        trained: r.trained,
        bits: r.bits,
        bit_errors: r.prbs.map(|s| s.errors),
        ber: r.prbs.and_then(|s| s.ber()),
        snr_db: finite(r.quality.snr_db),
        carrier_offset_hz: finite(r.quality.carrier_offset_hz),
        level_dbm0: finite(r.quality.level_dbm0),
        prbs_bits: r.prbs.map(|s| s.bits),
        prbs_sync_losses: r.prbs.map(|s| s.sync_losses),
        prbs_trailing_bits: r.prbs.map(|s| s.trailing_bits),
        carrier_ups: r.carrier_ups,
        training_failures: r.training_failures,
        modem: kind.name(),
        rate: cfg.rate,
        receiver: imp.name(),
        file: a.input.display().to_string(),
        channel,
        input: InputInfo {
            encoding: audio.encoding.to_string(),
            sample_rate: audio.sample_rate,
            channels: audio.channels,
            duration_s: audio.duration_s(),
        },
    };
    println!(
        "{}",
        serde_json::to_string(&report).expect("report serialises")
    );
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::failure(format!("{}: cannot write: {e}", path.display())))
}

/// Parses `FROM..TO:STEP`, `FROM..TO` (step 1) or a single value into the SNRs to measure.
pub fn parse_snr_range(text: &str) -> Result<Vec<f64>, String> {
    let bad = |why: &str| format!("--snr {text:?}: {why} (expected FROM..TO:STEP, e.g. 6..20:0.5)");
    let num = |s: &str| -> Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(&format!("{s:?} is not a number")))
    };
    let Some((from, rest)) = text.split_once("..") else {
        return Ok(vec![num(text)?]);
    };
    let (to, step) = match rest.split_once(':') {
        Some((to, step)) => (num(to)?, num(step)?),
        None => (num(rest)?, 1.0),
    };
    let from = num(from)?;
    if step <= 0.0 {
        return Err(bad("the step must be positive"));
    }
    if to < from {
        return Err(bad("TO is below FROM"));
    }
    let count = ((to - from) / step + 1e-9).floor() as u64 + 1;
    if count > 1000 {
        return Err(bad("more than 1000 points"));
    }
    Ok((0..count)
        .map(|i| ((from + i as f64 * step) * 1e6).round() / 1e6)
        .collect())
}

/// The JSON `faxsim modem ber --json` prints.
#[derive(Debug, Serialize)]
pub struct BerReport {
    /// The modem.
    pub modem: &'static str,
    /// Bit rate.
    pub rate: u32,
    /// PRBS bits compared per point.
    pub bits: u64,
    /// Noise seed (the first, with `--seeds`).
    pub seed: u64,
    /// Noise seeds each point sums.
    pub seeds: u32,
    /// Transmit level, dBm0.
    pub level_dbm0: f32,
    /// Noise-only lead-in, ms.
    pub lead_in_ms: u32,
    /// Carrier frequency offset of the line, Hz.
    pub freq_offset_hz: f64,
    /// Sampling clock offset of the line, ppm.
    pub clock_ppm: f64,
    /// One entry per SNR.
    pub points: Vec<SweepPoint>,
    /// With `--threshold`: per path, the lowest error-free SNR.
    pub thresholds: Option<Vec<Threshold>>,
}

/// One path's sensitivity.
#[derive(Debug, Serialize)]
pub struct Threshold {
    /// Transmitter implementation.
    pub tx: &'static str,
    /// Receiver implementation.
    pub rx: &'static str,
    /// The lowest SNR from which every higher SNR of the sweep was error-free; `None` if
    /// the highest was not.
    pub snr_db: Option<f64>,
}

fn ber(a: BerArgs) -> Result<(), CliError> {
    let kind = a.modem.kind();
    let rate = rate_of(kind, a.rate);
    let snrs = parse_snr_range(&a.snr).map_err(CliError::usage)?;
    if a.bits == 0 || a.bits > 100_000_000 {
        return Err(CliError::usage(format!(
            "--bits {}: give between 1 and 100000000",
            a.bits
        )));
    }
    if a.seeds == 0 || a.seeds > 1000 {
        return Err(CliError::usage(format!(
            "--seeds {}: give between 1 and 1000",
            a.seeds
        )));
    }
    if !(a.freq_offset_hz.is_finite() && a.freq_offset_hz.abs() <= 100.0) {
        return Err(CliError::usage(format!(
            "--freq-offset-hz {}: give between -100 and 100",
            a.freq_offset_hz
        )));
    }
    if !(a.clock_ppm.is_finite() && a.clock_ppm.abs() <= 1000.0) {
        return Err(CliError::usage(format!(
            "--clock-ppm {}: give between -1000 and 1000",
            a.clock_ppm
        )));
    }
    let paths = match a.peer {
        None => vec![(Implementation::Ours, Implementation::Ours)],
        Some(PeerName::Spandsp) => {
            let (o, s) = (Implementation::Ours, Implementation::Spandsp);
            vec![(o, o), (s, o), (o, s), (s, s)]
        }
    };
    let cfg = SweepConfig {
        kind,
        rate,
        level_dbm0: a.level,
        bits: a.bits,
        seed: a.seed,
        snrs_db: snrs,
        lead_in: (a.lead_in_ms.min(10_000) * 8) as usize,
        freq_offset_hz: a.freq_offset_hz,
        clock_ppm: a.clock_ppm,
        paths,
    };
    let points = modem_run::sweep_seeds(&cfg, a.seeds).map_err(build_error)?;
    let thresholds = a.threshold.then(|| {
        modem_run::thresholds(&cfg, &points)
            .into_iter()
            .zip(&cfg.paths)
            .map(|(snr_db, (t, r))| Threshold {
                tx: t.name(),
                rx: r.name(),
                snr_db,
            })
            .collect::<Vec<_>>()
    });
    if a.json {
        let report = BerReport {
            modem: kind.name(),
            rate,
            bits: a.bits,
            seed: a.seed,
            seeds: a.seeds,
            level_dbm0: a.level,
            lead_in_ms: a.lead_in_ms,
            freq_offset_hz: a.freq_offset_hz,
            clock_ppm: a.clock_ppm,
            points,
            thresholds,
        };
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serialises")
        );
    } else {
        print!(
            "{}",
            ber_table(&cfg, a.seeds, &points, thresholds.as_deref())
        );
    }
    Ok(())
}

fn cell(p: &modem_run::PathPoint, cfg: &SweepConfig) -> String {
    if p.unavailable.is_some() {
        return "n/a".into();
    }
    if p.bits == 0 {
        return if !p.trained {
            if modems::has_training(cfg.kind) {
                "no train"
            } else {
                "no carrier"
            }
        } else {
            "no sync"
        }
        .into();
    }
    let mark = if p.bits < cfg.bits * u64::from(p.runs) {
        "*"
    } else {
        ""
    };
    let runs = if p.runs > 1 {
        format!(" {}/{}", p.error_free_runs, p.runs)
    } else {
        String::new()
    };
    match p.ber {
        Some(0.0) => format!("0{mark}{runs}"),
        Some(b) => format!("{b:.2e}{mark}{runs}"),
        None => "no sync".into(),
    }
}

/// The table `faxsim modem ber` prints.
pub fn ber_table(
    cfg: &SweepConfig,
    seeds: u32,
    points: &[SweepPoint],
    thresholds: Option<&[Threshold]>,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    // One run per point, or the sum of `seeds` runs with their error-free count after the BER.
    let (over, noise) = if seeds > 1 {
        (
            format!(
                "{seeds} runs of {} PRBS bits per point (error-free runs after it)",
                cfg.bits
            ),
            format!(
                "seeds {}..{}",
                cfg.seed,
                cfg.seed.wrapping_add(u64::from(seeds) - 1)
            ),
        )
    } else {
        (
            format!("{} PRBS bits per point", cfg.bits),
            format!("seed {}", cfg.seed),
        )
    };
    let _ = write!(
        s,
        "{} {} bit/s: BER over {over}, TX {:.1} dBm0, AWGN {noise}",
        cfg.kind.name(),
        cfg.rate,
        cfg.level_dbm0,
    );
    if cfg.freq_offset_hz != 0.0 {
        let _ = write!(s, ", carrier offset {:+} Hz", cfg.freq_offset_hz);
    }
    if cfg.clock_ppm != 0.0 {
        let _ = write!(s, ", clock offset {:+} ppm", cfg.clock_ppm);
    }
    s.push('\n');
    let _ = write!(s, "{:>8}", "SNR dB");
    for (t, r) in &cfg.paths {
        let _ = write!(s, "  {:>16}", format!("{}→{}", t.name(), r.name()));
    }
    s.push('\n');
    let mut short = false;
    for point in points {
        let _ = write!(s, "{:>8.1}", point.snr_db);
        for p in &point.paths {
            let c = cell(p, cfg);
            short |= c.ends_with('*');
            let _ = write!(s, "  {c:>16}");
        }
        s.push('\n');
    }
    if short {
        let _ = writeln!(
            s,
            "* fewer than {} bits compared (late sync or lost data){}",
            cfg.bits,
            if seeds > 1 { " in a run" } else { "" }
        );
    }
    let unavailable: Vec<&String> = points
        .first()
        .map(|p| {
            p.paths
                .iter()
                .filter_map(|x| x.unavailable.as_ref())
                .collect()
        })
        .unwrap_or_default();
    let mut seen = Vec::new();
    for reason in unavailable {
        if !seen.contains(&reason) {
            let _ = writeln!(s, "n/a: {reason}");
            seen.push(reason);
        }
    }
    if let Some(ts) = thresholds {
        let _ = writeln!(
            s,
            "lowest SNR from which all {} bits were error-free{} at every higher SNR tested:",
            cfg.bits,
            if seeds > 1 {
                format!(" on each of the {seeds} seeds")
            } else {
                String::new()
            }
        );
        for (i, t) in ts.iter().enumerate() {
            let path = format!("{}→{}", t.tx, t.rx);
            let unavailable = points
                .first()
                .is_some_and(|p| p.paths[i].unavailable.is_some());
            if unavailable {
                let _ = writeln!(s, "  {path:>16}  n/a");
                continue;
            }
            match t.snr_db {
                Some(v) => {
                    let _ = writeln!(s, "  {path:>16}  {v:.1} dB");
                }
                None => {
                    let _ = writeln!(s, "  {path:>16}  not reached");
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snr_ranges() {
        assert_eq!(
            parse_snr_range("6..8:0.5").unwrap(),
            [6.0, 6.5, 7.0, 7.5, 8.0]
        );
        assert_eq!(parse_snr_range("-2..1").unwrap(), [-2.0, -1.0, 0.0, 1.0]);
        assert_eq!(parse_snr_range("12").unwrap(), [12.0]);
        assert_eq!(parse_snr_range("0..0.9:0.3").unwrap(), [0.0, 0.3, 0.6, 0.9]);
        for bad in ["a..b", "5..1", "1..5:0", "1..5:-1", "", "0..1e6:0.001"] {
            let e = parse_snr_range(bad).unwrap_err();
            assert!(e.starts_with("--snr"), "{e}");
        }
    }
}
