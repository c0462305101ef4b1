//! Throughput of every channel stage and of whole preset chains, in samples per second
//! (8000 samples = one second of line signal), processing one second of a V.29-like
//! noise signal in 20 ms blocks.

use std::hint::black_box;
use std::time::Duration;

use channel_models::AudioStage;
use channel_models::chain::{Chain, ChainSpec};
use channel_models::echo::HybridEcho;
use channel_models::filter::{LineFilter, LinePreset};
use channel_models::g726::{G726, G726Rate};
use channel_models::g729::{self, G729};
use channel_models::impair::{ClockSlip, Hum, PhaseJitter, SlipKind};
use channel_models::line::{Awgn, ClockDrift, FrequencyShift};
use channel_models::rng::Rng;
use channel_models::vad::{Vad, VadConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const BLOCK: usize = 160;
const SECOND: usize = 8000;

fn signal() -> Vec<i16> {
    let mut rng = Rng::new(1);
    (0..SECOND)
        .map(|_| (5000.0 * rng.gaussian()) as i16)
        .collect()
}

fn bench_stage(c: &mut Criterion, name: &str, stage: &mut dyn AudioStage, input: &[i16]) {
    let mut g = c.benchmark_group("channel");
    g.throughput(Throughput::Elements(input.len() as u64));
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(300));
    let mut out = Vec::with_capacity(SECOND + 64);
    g.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            for block in input.chunks(BLOCK) {
                stage.process(black_box(block), &mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();
}

fn stages(c: &mut Criterion) {
    let x = signal();
    bench_stage(c, "awgn", &mut Awgn::with_snr(30.0, -10.0, 1), &x);
    bench_stage(c, "frequency-shift", &mut FrequencyShift::new(5.0), &x);
    bench_stage(c, "clock-drift", &mut ClockDrift::new(50.0), &x);
    bench_stage(
        c,
        "clock-slip",
        &mut ClockSlip::new(1000, SlipKind::Drop),
        &x,
    );
    bench_stage(
        c,
        "line-filter",
        &mut LineFilter::preset(LinePreset::LongHaul),
        &x,
    );
    bench_stage(c, "hum", &mut Hum::new(50.0, -50.0, 2), &x);
    bench_stage(c, "phase-jitter", &mut PhaseJitter::new(5.0, 120.0), &x);
    bench_stage(c, "echo", &mut HybridEcho::new(30.0, 15.0), &x);
    bench_stage(c, "vad", &mut Vad::new(VadConfig::default(), 1), &x);
    for rate in [G726Rate::Kbps16, G726Rate::Kbps32, G726Rate::Kbps40] {
        let name = format!("g726-{}", rate.bit_rate() / 1000);
        bench_stage(c, &name, &mut G726::new(rate), &x);
    }
    if g729::is_available() {
        bench_stage(c, "g729", &mut G729::new().expect("bcg729"), &x);
    }
}

fn chains(c: &mut Criterion) {
    let x = signal();
    for name in ["pstn-typical", "pstn-long-haul", "voip-g711-lossy"] {
        let spec = ChainSpec::preset(name).expect("preset");
        let mut chain = Chain::build(&spec, 1).expect("chain");
        bench_stage(c, &format!("chain-{name}"), &mut chain, &x);
    }
}

criterion_group!(benches, stages, chains);
criterion_main!(benches);
