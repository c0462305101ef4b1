//! The BER sweep preset: bit error ratio against SNR for every fast modem and rate, our
//! transmitter into our receiver next to spandsp's into spandsp's, through the modem layer
//! alone ([`crate::modem_run::sweep`], the code behind `faxsim modem ber`).

use std::path::Path;

use modem::ModemKind;
use reports::chart::{LineChart, Series};
use reports::sweep::{ReportChart, SweepPage, csv_field, write_page};
use serde::Serialize;

use super::run::SweepError;
use crate::modem_run::{self, SweepConfig, SweepPoint};
use crate::modems::{BuildError, Implementation};

/// A BER sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct BerSpec {
    /// Modems and the rates of each to measure.
    pub modems: Vec<(ModemKind, Vec<u32>)>,
    /// SNRs, dB over the 0–4000 Hz band.
    pub snrs_db: Vec<f64>,
    /// PRBS bits per point.
    pub bits: u64,
    /// Noise seed.
    pub seed: u64,
    /// Also measure spandsp → spandsp.
    pub peer: bool,
}

/// One row of the results.
#[derive(Debug, Clone, Serialize)]
pub struct BerRow {
    /// Modem name.
    pub modem: &'static str,
    /// Bit rate.
    pub rate: u32,
    /// SNR, dB.
    pub snr_db: f64,
    /// Transmitter.
    pub tx: &'static str,
    /// Receiver.
    pub rx: &'static str,
    /// Bits compared.
    pub bits: u64,
    /// Bit errors.
    pub bit_errors: u64,
    /// BER (None: the receiver never synchronised).
    pub ber: Option<f64>,
    /// Whether the receiver trained.
    pub trained: bool,
    /// Why the path could not run.
    pub unavailable: Option<String>,
}

fn modem_label(kind: ModemKind) -> &'static str {
    match kind {
        ModemKind::V17 => "V.17",
        ModemKind::V29 => "V.29",
        ModemKind::V27ter => "V.27ter",
        _ => "V.21",
    }
}

/// Runs the BER sweep on `jobs` threads and writes results.csv, results.json, report.html
/// and one PNG per modem into `out`. Returns the lines to print.
pub fn run_ber(spec: &BerSpec, out: &Path, jobs: usize) -> Result<Vec<String>, SweepError> {
    let mut paths = vec![(Implementation::Ours, Implementation::Ours)];
    if spec.peer {
        paths.push((Implementation::Spandsp, Implementation::Spandsp));
    }
    let work: Vec<(ModemKind, u32)> = spec
        .modems
        .iter()
        .flat_map(|(k, rates)| rates.iter().map(move |r| (*k, *r)))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| SweepError::Failure(format!("cannot start {jobs} workers: {e}")))?;
    let measured: Vec<(SweepConfig, Vec<SweepPoint>)> = pool.install(|| {
        use rayon::prelude::*;
        work.par_iter()
            .map(|&(kind, rate)| {
                let cfg = SweepConfig {
                    kind,
                    rate,
                    level_dbm0: modem::level::DEFAULT_TX_DBM0,
                    bits: spec.bits,
                    seed: spec.seed,
                    snrs_db: spec.snrs_db.clone(),
                    lead_in: 0,
                    freq_offset_hz: 0.0,
                    clock_ppm: 0.0,
                    paths: paths.clone(),
                };
                let points = modem_run::sweep(&cfg).map_err(|e| match e {
                    BuildError::Config(m) => SweepError::Usage(m),
                    BuildError::Unavailable(m) => SweepError::Failure(m),
                })?;
                Ok((cfg, points))
            })
            .collect::<Result<_, SweepError>>()
    })?;
    std::fs::create_dir_all(out)
        .map_err(|e| SweepError::Failure(format!("{}: {e}", out.display())))?;
    let mut rows = Vec::new();
    for (cfg, points) in &measured {
        for p in points {
            for path in &p.paths {
                rows.push(BerRow {
                    modem: modem_label(cfg.kind),
                    rate: cfg.rate,
                    snr_db: p.snr_db,
                    tx: path.tx,
                    rx: path.rx,
                    bits: path.bits,
                    bit_errors: path.bit_errors,
                    ber: path.ber,
                    trained: path.trained,
                    unavailable: path.unavailable.clone(),
                });
            }
        }
    }
    let write = |name: &str, text: String| {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| SweepError::Failure(format!("{}: {e}", p.display())))
    };
    let mut csv = String::from("modem,rate,snr_db,tx,rx,bits,bit_errors,ber,trained,unavailable\n");
    for r in &rows {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            r.modem,
            r.rate,
            r.snr_db,
            r.tx,
            r.rx,
            r.bits,
            r.bit_errors,
            r.ber.map(|b| format!("{b:.3e}")).unwrap_or_default(),
            r.trained,
            csv_field(r.unavailable.as_deref().unwrap_or(""))
        ));
    }
    write("results.csv", csv)?;
    write(
        "results.json",
        serde_json::to_string_pretty(&rows).expect("rows serialise") + "\n",
    )?;
    // BER 0 (and a receiver that never synchronised, BER 0.5) is drawn at the axis ends.
    let floor = 0.5 / spec.bits as f64;
    let mut charts = Vec::new();
    let mut comparison = Vec::new();
    for (kind, _) in &spec.modems {
        let mut chart = LineChart::new(
            &format!("{}: bit error ratio vs SNR", modem_label(*kind)),
            "SNR (dB, 0-4000 Hz band)",
            "bit error ratio",
        );
        chart.log_y = true;
        chart.log_floor = floor;
        chart.y_range = Some((floor, 1.0));
        for (cfg, points) in measured.iter().filter(|(c, _)| c.kind == *kind) {
            let thresholds = modem_run::thresholds(cfg, points);
            let mut line = format!(
                "{} {} bit/s, lowest error-free SNR:",
                modem_label(*kind),
                cfg.rate
            );
            for (pi, (tx, _)) in cfg.paths.iter().enumerate() {
                if points
                    .first()
                    .is_some_and(|p| p.paths[pi].unavailable.is_some())
                {
                    line.push_str(&format!(" {} n/a;", tx.name()));
                    continue;
                }
                let mut s = Series::new(format!("{} {}", cfg.rate, tx.name()));
                s.dashed = *tx == Implementation::Spandsp;
                s.colour = kind.rates().iter().position(|r| *r == cfg.rate);
                for p in points {
                    let pp = &p.paths[pi];
                    s.points.push((p.snr_db, pp.ber.unwrap_or(0.5).max(floor)));
                }
                chart.series.push(s);
                line.push_str(&format!(
                    " {} {};",
                    tx.name(),
                    thresholds[pi]
                        .map(|v| format!("{v:.0} dB"))
                        .unwrap_or("not reached".into())
                ));
            }
            comparison.push(line.trim_end_matches(';').to_string() + ".");
        }
        charts.push(ReportChart {
            png: format!("ber-{}.png", kind.name()),
            caption: format!(
                "{} BER over {} PRBS bits per point; solid: ours → ours, dashed: spandsp → spandsp. Error-free points are drawn at {:.0e}, a receiver that never synchronised at 0.5.",
                modem_label(*kind),
                spec.bits,
                floor
            ),
            chart,
        });
    }
    let page = SweepPage {
        title: "faxsim sweep: BER vs SNR per modem and rate".into(),
        intro: vec![format!(
            "Each modem's transmitter into its receiver through white Gaussian noise, TX at {} dBm0, noise seed {}, {} bits per point{}.",
            modem::level::DEFAULT_TX_DBM0,
            spec.seed,
            spec.bits,
            if spec.peer {
                "; spandsp's pair beside ours"
            } else {
                " (ours only)"
            }
        )],
        charts,
        comparison_title: "Sensitivity, ours against spandsp".into(),
        comparison,
        results: None,
    };
    let html = write_page(out, &page).map_err(|e| SweepError::Failure(e.to_string()))?;
    write("report.html", html)?;
    Ok(page.comparison)
}
