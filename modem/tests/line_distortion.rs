//! The fast modems through telephone lines with amplitude and envelope-delay distortion
//! (the `long-haul` and `m1020-limit` line filters) and noise 30 dB below the signal: each
//! must train and deliver the data with at most the errors measured for it.

mod common;

use channel_models::AudioStage;
use channel_models::filter::{LineFilter, LinePreset};
use channel_models::line::Awgn;
use common::*;
use modem::ModemKind::{self, V17, V27ter, V29};

/// Data bits sent through each line.
const BITS: usize = 30_000;
/// Noise below the transmit level, dB (full band).
const SNR_DB: f64 = 30.0;

/// Sends `BITS` random bits through `preset` and noise; returns the receiver's events' count
/// of successful trainings and the bit errors.
fn through_line(kind: ModemKind, rate: u32, preset: LinePreset, seed: u64) -> (usize, usize) {
    let bits = random_bits(BITS, seed);
    let sig = our_tx(kind, rate, false, &bits, 400, 800);
    let mut filtered = Vec::with_capacity(sig.len());
    LineFilter::preset(preset).process(&sig, &mut filtered);
    let mut noisy = Vec::with_capacity(filtered.len());
    Awgn::with_snr(SNR_DB, LEVEL as f64, seed).process(&filtered, &mut noisy);
    let mut rx = our_receiver(kind, rate, false);
    let c = receive(rx.as_mut(), &noisy, 160);
    let (errors, _) = best_aligned_errors(&bits, &c.bits);
    eprintln!(
        "{kind:?} {rate} {}: {errors} errors in {BITS} bits, {:?}",
        preset.name(),
        c.events
    );
    (c.trainings(), errors)
}

fn check(kind: ModemKind, rate: u32, preset: LinePreset, max_errors: usize) {
    for seed in [1, 2] {
        let (trainings, errors) = through_line(kind, rate, preset, seed + rate as u64);
        assert_eq!(trainings, 1, "{kind:?} {rate} {}", preset.name());
        assert!(
            errors <= max_errors,
            "{kind:?} {rate} {}: {errors} errors",
            preset.name()
        );
    }
}

#[test]
fn v17_long_haul_every_rate_error_free() {
    for rate in [14400, 12000, 9600, 7200] {
        check(V17, rate, LinePreset::LongHaul, 0);
    }
}

#[test]
fn v17_m1020_limit_every_rate() {
    for rate in [14400, 12000, 9600, 7200] {
        check(
            V17,
            rate,
            LinePreset::M1020Limit,
            if rate == 14400 { 60 } else { 0 },
        );
    }
}

#[test]
fn v29_long_haul_every_rate_error_free() {
    for rate in [9600, 7200, 4800] {
        check(V29, rate, LinePreset::LongHaul, 0);
    }
}

/// V.29 through `m1020-limit`. At 9600 it made 35 and 71 errors here (113–142 of 200
/// trainings made errors in their first 4800 bits): segment 3 is too short for the LMS to
/// converge at the band edges the line takes, and the data-mode timing loop, wide for its
/// first second, moved the sampling phase faster than the equalizer's data step followed.
/// The equalizer now goes over the recorded segment 3 twice more, and keeps a wider step
/// while the timing loop learns.
#[test]
fn v29_m1020_limit_every_rate_error_free() {
    for rate in [9600, 7200, 4800] {
        check(V29, rate, LinePreset::M1020Limit, 0);
    }
}

#[test]
fn v27ter_both_lines_both_rates_error_free() {
    for rate in [4800, 2400] {
        check(V27ter, rate, LinePreset::LongHaul, 0);
        check(V27ter, rate, LinePreset::M1020Limit, 0);
    }
}

/// Sends `DRIFT_BITS` random bits through `preset`, the far end's clock `ppm` off, and
/// noise; asserts one training, every bit and no error.
fn line_with_drift(kind: ModemKind, rate: u32, preset: LinePreset, ppm: f64) {
    use channel_models::line::ClockDrift;
    const DRIFT_BITS: usize = 150_000;
    let bits = random_bits(DRIFT_BITS, rate as u64);
    let sig = our_tx(kind, rate, false, &bits, 400, 800);
    let mut filtered = Vec::with_capacity(sig.len());
    LineFilter::preset(preset).process(&sig, &mut filtered);
    let mut drifted = Vec::with_capacity(filtered.len());
    ClockDrift::new(ppm).process(&filtered, &mut drifted);
    let mut noisy = Vec::with_capacity(drifted.len());
    Awgn::with_snr(SNR_DB, LEVEL as f64, 7).process(&drifted, &mut noisy);
    let mut rx = our_receiver(kind, rate, false);
    let c = receive(rx.as_mut(), &noisy, 160);
    let (errors, _) = best_aligned_errors(&bits, &c.bits);
    assert_eq!(
        c.trainings(),
        1,
        "{kind:?} {rate} {ppm} ppm: {:?}",
        c.events
    );
    assert!(
        c.bits.len() >= DRIFT_BITS,
        "{kind:?} {rate} {ppm} ppm: {} bits",
        c.bits.len()
    );
    assert_eq!(
        errors, 0,
        "{kind:?} {rate} bit/s {ppm} ppm: {errors} errors"
    );
}

/// V.17 through `long-haul` with the far end's clock 100 ppm off either way, for 10–21 s of
/// data. Through the band-edge loss Gardner's detector is weak: the narrow data-mode timing
/// loop alone lagged the drift, and the receiver lost the signal after 0.3–4 s. The clock
/// offset measured over the training's second half now stays on as a standing correction.
#[test]
fn v17_long_haul_with_clock_drift() {
    for rate in [14400, 7200] {
        for ppm in [100.0, -100.0] {
            line_with_drift(V17, rate, LinePreset::LongHaul, ppm);
        }
    }
}

/// V.17 through `m1020-limit` with the far end's clock 100 ppm off either way, for 10–21 s
/// of data (not 14400, which through this line is not error-free even on time). Its
/// training's second half measured +100 ppm as 70 ppm; the loop carried the rest with a
/// growing phase error and lost the signal after 8–11 s. The drift the data measures now
/// replaces the standing correction, a share at a time, when it differs by over 10 ppm.
#[test]
fn v17_m1020_limit_with_clock_drift() {
    for rate in [12000, 9600, 7200] {
        for ppm in [100.0, -100.0] {
            line_with_drift(V17, rate, LinePreset::M1020Limit, ppm);
        }
    }
}

/// V.29 through `long-haul` the same way, for 16–21 s of data. Its data-mode timing loop
/// (with an integrator) learnt the drift too slowly on the matched filter's weak detector,
/// and lost the signal after 2–3 s at +100 ppm; it is now wide for its first second, and
/// its detector takes part of its error from the equalized samples.
#[test]
fn v29_long_haul_with_clock_drift() {
    for rate in [9600, 7200] {
        for ppm in [100.0, -100.0] {
            line_with_drift(V29, rate, LinePreset::LongHaul, ppm);
        }
    }
}

/// V.29 through `m1020-limit` the same way: 98–153 errors in 192 k bits at 9600 bit/s and
/// +100 ppm, 28–29 at −100 ppm, before the training replay and the wider data step while
/// the timing loop learns.
#[test]
fn v29_m1020_limit_with_clock_drift() {
    for rate in [9600, 7200] {
        for ppm in [100.0, -100.0] {
            line_with_drift(V29, rate, LinePreset::M1020Limit, ppm);
        }
    }
}

/// V.27ter the same way, for 31 s (4800) and 62 s (2400) of data: its band (600–3000 Hz)
/// keeps clear of the edges the line takes most from, and its data-mode timing loop has
/// an integrator from the start.
#[test]
fn v27ter_long_haul_with_clock_drift() {
    for rate in [4800, 2400] {
        for ppm in [100.0, -100.0] {
            line_with_drift(V27ter, rate, LinePreset::LongHaul, ppm);
        }
    }
}

/// What a page after TCF passes through besides the line filter and noise.
#[derive(Clone, Copy, Default)]
struct PageLine {
    /// Far end's clock offset, ppm.
    ppm: f64,
    /// A listener echo (the page's own signal 30 ms later, 15 dB down).
    echo: bool,
}

/// A page after its TCF (V.17 or V.27ter): a long training with 1.5 s of data, a second of
/// silence, then a short training with `PAGE_BITS` random bits (a short training keeps the
/// long one's equalizer), through `preset`, `extra` and noise 30 dB down. Returns the page's
/// bit errors, `None` if either burst failed to train. `gap` shifts the page against the
/// sample grid.
fn page_after_tcf(
    kind: ModemKind,
    rate: u32,
    preset: LinePreset,
    extra: PageLine,
    seed: u64,
    gap: usize,
) -> Option<usize> {
    use channel_models::echo::HybridEcho;
    use channel_models::line::ClockDrift;
    const PAGE_BITS: usize = 40_000;
    let tcf = vec![false; rate as usize * 3 / 2];
    let page = random_bits(PAGE_BITS, seed);
    let mut sig = our_tx(kind, rate, false, &tcf, 400, 8000 + gap);
    // In the silence between the bursts (the drift moves the page by under a sample).
    let cut = sig.len() - 4000 - gap;
    sig.extend_from_slice(&our_tx(kind, rate, true, &page, 0, 800));
    let mut line = Vec::with_capacity(sig.len());
    LineFilter::preset(preset).process(&sig, &mut line);
    if extra.echo {
        let mut echoed = Vec::with_capacity(line.len());
        HybridEcho::new(30.0, 15.0).process(&line, &mut echoed);
        line = echoed;
    }
    if extra.ppm != 0.0 {
        let mut drifted = Vec::with_capacity(line.len());
        ClockDrift::new(extra.ppm).process(&line, &mut drifted);
        line = drifted;
    }
    let mut noisy = Vec::with_capacity(line.len());
    Awgn::with_snr(SNR_DB, LEVEL as f64, seed).process(&line, &mut noisy);
    let mut rx = our_receiver(kind, rate, false);
    let tcf_part = receive(rx.as_mut(), &noisy[..cut], 160);
    rx.restart(&modem::RxConfig {
        rate,
        short_train: true,
    })
    .unwrap();
    let c = receive(rx.as_mut(), &noisy[cut..], 160);
    let what = format!(
        "{kind:?} {rate} {} {} ppm{} seed {seed} gap {gap}",
        preset.name(),
        extra.ppm,
        if extra.echo { " echo" } else { "" }
    );
    if tcf_part.trainings() != 1 || c.trainings() != 1 {
        eprintln!("{what}: TCF {:?}, page {:?}", tcf_part.events, c.events);
        return None;
    }
    // Aligned in the middle of the page, so that errors at its start cannot misalign it.
    let (errors, _) = best_aligned_errors_at(&page, &c.bits, PAGE_BITS / 2);
    eprintln!("{what}: {errors} errors in {PAGE_BITS} bits");
    Some(errors)
}

/// Pages after TCF through `long-haul` and `m1020-limit`. The short training starts from the
/// equalizer the long one left, which fits only the sampling phase it was trained at; but on
/// a new burst's alternations Gardner's detector settles elsewhere on such a line (0.3
/// sample away through `long-haul`), and the reversal's single symbol, smeared by the line,
/// set the equalizer's gain. Pages came out as noise (about half their bits wrong) or with
/// hundreds of errors; calls through `long-haul` fell back from 14400 to 9600. The phase now
/// goes back to where the equalizer was trained, and the reversal only turns it. (14400 still
/// loses some pages through `long-haul`, see the README.)
#[test]
fn v17_page_after_tcf_through_distorted_lines() {
    for preset in [LinePreset::LongHaul, LinePreset::M1020Limit] {
        for seed in [1, 2] {
            for gap in [0, 3] {
                for rate in [12000, 9600, 7200] {
                    let errors = page_after_tcf(V17, rate, preset, PageLine::default(), seed, gap);
                    let what = format!("V17 {rate} {} seed {seed} gap {gap}", preset.name());
                    assert_eq!(errors, Some(0), "{what}");
                }
            }
        }
    }
}

/// Pages after TCF through `long-haul` and `m1020-limit` with the far end's clock 100 ppm
/// off either way. The short training's first segment leaves the sampling phase up to 0.7
/// sample from the one the kept equalizer was trained at; through these lines the
/// reversal into segment 2 then smeared over up to five symbols, and the receiver missed it
/// (over half the pages did not train, the rest were often lost). Segment 2's start is now
/// placed from its opening C D C D, and a data-aided timing loop takes the phase to where
/// the equalizer fits.
#[test]
fn v17_page_after_tcf_with_clock_drift() {
    for preset in [LinePreset::LongHaul, LinePreset::M1020Limit] {
        for ppm in [100.0, -100.0] {
            for seed in [1, 2] {
                for gap in [0, 3] {
                    for rate in [9600, 7200] {
                        let extra = PageLine { ppm, echo: false };
                        let errors = page_after_tcf(V17, rate, preset, extra, seed, gap);
                        let what = format!(
                            "V17 {rate} {} {ppm} ppm seed {seed} gap {gap}",
                            preset.name()
                        );
                        assert_eq!(errors, Some(0), "{what}");
                    }
                }
            }
        }
    }
}

/// A page after TCF through `m1020-limit` and a 30 ms listener echo 15 dB down. Segment 2 of
/// the short training is mostly periodic, and so is the echo of segment 1 under it, which
/// biases a data-aided timing loop there: with a fast loop on segment 2 and none on the
/// data, 22 of 50 such pages at 7200 bit/s had errors.
#[test]
fn v17_page_after_tcf_through_listener_echo() {
    for seed in [1, 2, 3] {
        for gap in [0, 3, 6] {
            let extra = PageLine {
                ppm: 0.0,
                echo: true,
            };
            let errors = page_after_tcf(V17, 7200, LinePreset::M1020Limit, extra, seed, gap);
            assert_eq!(
                errors,
                Some(0),
                "V17 7200 m1020-limit echo seed {seed} gap {gap}"
            );
        }
    }
}

/// V.27ter pages after TCF through `m1020-limit`: the short training's segment 3 has only 14
/// reversals, and a burst that starts near Gardner's unstable point (half a symbol off) did
/// not get out of it in time at 2400 bit/s (1200 baud), so segment 4 was never found (the
/// position 9 samples late did that). The sampling phase is now read from the reversals
/// and set at once.
#[test]
fn v27ter_page_after_tcf_through_m1020_limit() {
    for rate in [2400, 4800] {
        for gap in [0, 3, 6, 9] {
            let errors = page_after_tcf(
                V27ter,
                rate,
                LinePreset::M1020Limit,
                PageLine::default(),
                1,
                gap,
            );
            assert_eq!(errors, Some(0), "V27ter {rate} m1020-limit gap {gap}");
        }
    }
}
