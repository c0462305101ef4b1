//! How close the V.27ter 4800 receiver comes to an ideal one, seed by seed.
//!
//! `modem ber` reports the lowest SNR with no error in 10⁶ bits on one noise seed. Near the
//! edge that is a matter of luck: at 15 dB an error-free run is a coin toss even for a
//! perfect receiver. This measures the luck. For each noise seed it builds the `modem ber`
//! signal (our transmitter, AWGN at the SNR over 0–4000 Hz, the same seed), then:
//!
//! - runs our receiver on it, as `modem ber` does, and counts bit errors in 10⁶ bits;
//! - runs a genie on it: a coherent detector told the exact symbol instants and carrier
//!   phase (taken from the noise-free signal), with a filter matched to the transmitted
//!   pulse, deciding each symbol's absolute phase among the eight. Its symbol errors over
//!   the same stretch are what a receiver with perfect timing and carrier makes on this
//!   signal; each costs about six bit errors in ours (two differenced phases, each spread
//!   over three bits by the descrambler).
//!
//! ```text
//! cargo run --release -p faxsim-benches --example v27ter_genie -- 15 1 20
//! ```
//! (SNR dB, first seed, last seed; prints one line per seed and a summary.)

use modem::ModemKind;
use modem::dsp::root_raised_cosine;
use modem::prbs::PrbsSource;
use modem::v27ter::{LONG_SEG3_SYMBOLS, LONG_SEG4_SYMBOLS, SEG5_SYMBOLS};
use modem::{RxConfig, TxConfig};
use sim::modem_run::{FLUSH, RxOptions, guard_bits, receive, transmit};
use sim::modems::{Implementation, make_rx, make_tx};

use channel_models::AudioStage;
use channel_models::line::Awgn;

const BITS: u64 = 1_000_000;
const SPS: usize = 5;
const SPAN: usize = 10;
const CARRIER_HZ: f64 = 1800.0;
const LEVEL_DBM0: f64 = -10.0;

/// The transmitted pulse (root-raised-cosine 0.5 with the transmitter's Hann taper), one
/// value per sample, centred.
fn pulse() -> Vec<f64> {
    let half = SPAN as f64 / 2.0;
    (0..=SPAN * SPS)
        .map(|j| {
            let t = j as f64 / SPS as f64 - half;
            let w = 0.5 + 0.5 * (std::f64::consts::PI * t / half).cos();
            root_raised_cosine(t, 0.5) * w
        })
        .collect()
}

/// Matched-filter output at each of `at` (sample indices): down-converted with the nominal
/// carrier, then filtered with the pulse.
fn matched(x: &[f64], h: &[f64], at: impl Iterator<Item = usize>) -> Vec<(f64, f64)> {
    let w = 2.0 * std::f64::consts::PI * CARRIER_HZ / 8000.0;
    let bb: Vec<(f64, f64)> = x
        .iter()
        .enumerate()
        .map(|(n, &v)| {
            let p = w * n as f64;
            (v * p.cos(), -v * p.sin())
        })
        .collect();
    let m = h.len() / 2;
    at.map(|n| {
        let (mut re, mut im) = (0.0, 0.0);
        for (j, &hj) in h.iter().enumerate() {
            let k = n as isize + j as isize - m as isize;
            if k >= 0 && (k as usize) < bb.len() {
                re += bb[k as usize].0 * hj;
                im += bb[k as usize].1 * hj;
            }
        }
        (re, im)
    })
    .collect()
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: SNR first-seed last-seed"))
        .collect();
    let (snr, first, last) = match args[..] {
        [s, a, b] => (s, a as u64, b as u64),
        _ => {
            eprintln!("usage: v27ter_genie SNR_DB FIRST_SEED LAST_SEED");
            std::process::exit(2);
        }
    };
    let tx_cfg = TxConfig {
        rate: 4800,
        short_train: false,
        level_dbm0: LEVEL_DBM0 as f32,
    };
    let sent = BITS + guard_bits(BITS);
    let mut tx = make_tx(Implementation::Ours, ModemKind::V27ter, &tx_cfg).expect("tx");
    let body = transmit(tx.as_mut(), &mut PrbsSource::bounded(sent), 10_000_000).expect("tx");
    let start = body.iter().position(|&x| x != 0).unwrap_or(0);
    let mut clean: Vec<i16> = body[start..].to_vec();
    clean.extend(std::iter::repeat_n(0, FLUSH));

    let h = pulse();
    let cf: Vec<f64> = clean.iter().map(|&v| f64::from(v)).collect();
    let yc = matched(&cf, &h, 0..cf.len());
    // The sampling phase with the most energy is the symbol instant.
    let offset = (0..SPS)
        .max_by(|&a, &b| {
            let e = |o: usize| -> f64 {
                yc.iter()
                    .skip(o)
                    .step_by(SPS)
                    .map(|&(r, i)| r * r + i * i)
                    .sum()
            };
            e(a).total_cmp(&e(b))
        })
        .expect("five phases");
    let on: Vec<(f64, f64)> = yc.iter().skip(offset).step_by(SPS).copied().collect();
    let peak = on
        .iter()
        .map(|&(r, i)| (r * r + i * i).sqrt())
        .fold(0.0, f64::max);
    // The first symbol at full amplitude opens segment 3 (the silence of segment 2 was cut
    // with the leading zeros); the data follows segments 3, 4 and 5, BITS / 3 symbols of it.
    let first_sym = on
        .iter()
        .position(|&(r, i)| (r * r + i * i).sqrt() > 0.5 * peak)
        .expect("signal");
    let data_start = first_sym + LONG_SEG3_SYMBOLS + LONG_SEG4_SYMBOLS + SEG5_SYMBOLS;
    let data = data_start..data_start + BITS.div_ceil(3) as usize;
    // The constellation's rotation: the mean phase modulo 45°, on the clean symbols.
    let eighth = std::f64::consts::FRAC_PI_4;
    let (mut sx, mut sy) = (0.0, 0.0);
    for &(r, i) in &on[data.clone()] {
        let a = 8.0 * i.atan2(r);
        sx += a.cos();
        sy += a.sin();
    }
    let rot = sy.atan2(sx) / 8.0;
    let point = |(r, i): (f64, f64)| -> i64 { ((i.atan2(r) - rot) / eighth).round() as i64 & 7 };

    println!("V.27ter 4800, {snr} dB, {BITS} bits; symbol instant at phase {offset} of {SPS}");
    let (mut ours_clean, mut genie_clean, mut n) = (0, 0, 0);
    for seed in first..=last {
        let mut awgn = Awgn::with_snr(snr, LEVEL_DBM0, seed);
        let mut noisy = Vec::with_capacity(clean.len());
        awgn.process(&clean, &mut noisy);
        let noise: Vec<f64> = noisy
            .iter()
            .zip(&clean)
            .map(|(&a, &b)| f64::from(a) - f64::from(b))
            .collect();
        // The noise through the filter at the data's symbol instants only.
        let yn = matched(&noise, &h, data.clone().map(|k| offset + k * SPS));
        let mut genie_errors = Vec::new();
        for (k, n) in data.clone().zip(&yn) {
            let c = on[k];
            let y = (c.0 + n.0, c.1 + n.1);
            if point(y) != point(c) {
                genie_errors.push(k - data.start);
            }
        }
        let mut rx = make_rx(
            Implementation::Ours,
            ModemKind::V27ter,
            &RxConfig {
                rate: 4800,
                short_train: false,
            },
        )
        .expect("rx");
        let r = receive(
            rx.as_mut(),
            ModemKind::V27ter,
            &noisy,
            RxOptions {
                prbs: true,
                prbs_limit: Some(BITS),
                keep_bits: false,
            },
        );
        let stats = r.prbs.unwrap_or_default();
        let ours_ok = stats.bits == BITS && stats.errors == 0;
        ours_clean += usize::from(ours_ok);
        genie_clean += usize::from(genie_errors.is_empty());
        n += 1;
        println!(
            "seed {seed:3}: ours {} bit errors in {} bits; genie {} symbol errors {:?}",
            stats.errors,
            stats.bits,
            genie_errors.len(),
            genie_errors
        );
    }
    println!("error-free: ours {ours_clean} of {n} seeds, genie {genie_clean} of {n}");
}
