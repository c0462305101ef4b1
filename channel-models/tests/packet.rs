//! The packet path: loss and jitter statistics with fixed seeds, jitter-buffer counts,
//! PLC, and the whole VoIP path.

mod common;
use common::{assert_block_invariant, run, sine, snr_db, v29_signal};

use channel_models::packet::{
    JitterBuffer, JitterMode, JitterModel, LossModel, Network, NetworkConfig, Payload, Playout,
    Plc, RtpPacket, VoipConfig, VoipPath,
};

/// (mean loss rate, mean burst length) over `n` packets.
fn loss_stats(cfg: NetworkConfig, seed: u64, n: usize) -> (f64, f64) {
    let mut net = Network::new(cfg, seed);
    let (mut lost, mut bursts, mut in_burst) = (0usize, 0usize, false);
    for _ in 0..n {
        let l = net.lose();
        if l {
            lost += 1;
            if !in_burst {
                bursts += 1;
            }
        }
        in_burst = l;
    }
    (lost as f64 / n as f64, lost as f64 / bursts.max(1) as f64)
}

fn with_loss(loss: LossModel) -> NetworkConfig {
    NetworkConfig {
        loss,
        ..NetworkConfig::clean(50.0)
    }
}

#[test]
fn bernoulli_loss_rate() {
    let (rate, burst) = loss_stats(with_loss(LossModel::Bernoulli { p: 0.05 }), 11, 200_000);
    println!(
        "Bernoulli p=5%: measured loss {:.3}%, mean burst {burst:.3} (expected 1/(1-p) = 1.053)",
        rate * 100.0
    );
    assert!((rate - 0.05).abs() < 0.0025, "{rate}");
    assert!((burst - 1.0 / 0.95).abs() < 0.02, "{burst}");
}

#[test]
fn gilbert_elliott_loss_and_bursts() {
    let ge = LossModel::GilbertElliott {
        p: 0.02,
        r: 0.25,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let (rate, burst) = loss_stats(with_loss(ge), 12, 400_000);
    let want = 0.02 / 0.27;
    println!(
        "Gilbert-Elliott p=0.02 r=0.25: loss {:.2}% (expected {:.2}%), mean burst {burst:.2} (expected 4.00)",
        rate * 100.0,
        want * 100.0
    );
    assert!((rate - want).abs() < 0.004, "{rate}");
    assert!((burst - 4.0).abs() < 0.2, "{burst}");
}

#[test]
fn g1050_presets_have_their_loss_and_bursts() {
    // (level, mean loss, mean burst) as designed in NetworkConfig::g1050.
    for (level, loss, burst) in [
        ('B', 0.0005, 1.0),
        ('D', 0.005, 2.0),
        ('F', 0.02, 3.0),
        ('H', 0.05, 4.0),
    ] {
        let cfg = NetworkConfig::g1050(level).unwrap();
        let (rate, b) = loss_stats(cfg, 13, 1_000_000);
        println!(
            "G.1050-{level}: loss {:.3}% (design {:.2}%), mean burst {b:.2} (design {burst})",
            rate * 100.0,
            loss * 100.0
        );
        assert!(
            (rate - loss).abs() < 0.15 * loss + 0.0002,
            "{level}: {rate}"
        );
        assert!((b - burst).abs() < 0.1 * burst + 0.1, "{level}: {b}");
    }
    assert!(NetworkConfig::g1050('A').unwrap().loss == LossModel::None);
    assert!(NetworkConfig::g1050('Z').is_none());
}

fn jitter_samples(model: JitterModel, n: usize) -> Vec<f64> {
    let mut net = Network::new(
        NetworkConfig {
            jitter: model,
            ..NetworkConfig::clean(0.0)
        },
        14,
    );
    (0..n).map(|_| net.jitter_ms()).collect()
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64;
    (m, v.sqrt())
}

#[test]
fn jitter_distributions() {
    let n = 200_000;
    let (m, sd) = mean_sd(&jitter_samples(
        JitterModel::Exponential { mean_ms: 10.0 },
        n,
    ));
    println!("exponential 10 ms: mean {m:.2}, sd {sd:.2}");
    assert!((m - 10.0).abs() < 0.1 && (sd - 10.0).abs() < 0.2);
    let u = jitter_samples(JitterModel::Uniform { max_ms: 30.0 }, n);
    let (m, sd) = mean_sd(&u);
    println!("uniform 0-30 ms: mean {m:.2}, sd {sd:.2} (expected 15, 8.66)");
    assert!((m - 15.0).abs() < 0.1 && (sd - 30.0 / 12f64.sqrt()).abs() < 0.1);
    assert!(u.iter().all(|&v| (0.0..=30.0).contains(&v)));
    let (m, _) = mean_sd(&jitter_samples(
        JitterModel::HalfNormal { sigma_ms: 5.0 },
        n,
    ));
    let want = 5.0 * (2.0 / std::f64::consts::PI).sqrt();
    println!("half-normal sigma 5 ms: mean {m:.3} (expected {want:.3})");
    assert!((m - want).abs() < 0.05);
}

fn pkt(seq: u16) -> RtpPacket {
    RtpPacket {
        seq,
        timestamp: seq as u32 * 160,
        len: 160,
        data: [seq as u8; 240],
    }
}

#[test]
fn jitter_buffer_counts_right() {
    let mut jb = JitterBuffer::new(JitterMode::Fixed { delay_ms: 40.0 }, 160);
    assert_eq!(jb.pull().0, Playout::NotStarted);
    // seq 0..=9; 3 never comes, 5 comes after its playout time, 7 twice.
    jb.push(&pkt(0), 0);
    jb.push(&pkt(1), 100);
    jb.push(&pkt(2), 200);
    jb.push(&pkt(4), 300);
    let mut played = Vec::new();
    for (i, p) in [6u16, 7, 7, 8, 9].iter().enumerate() {
        jb.push(&pkt(*p), 400 + i as u64);
    }
    for _ in 0..6 {
        played.push(jb.pull().0);
    }
    jb.push(&pkt(5), 2000);
    for _ in 0..4 {
        played.push(jb.pull().0);
    }
    use Playout::*;
    assert_eq!(
        played,
        vec![
            Frame(0),
            Frame(1),
            Frame(2),
            Missing,
            Frame(4),
            Missing,
            Frame(6),
            Frame(7),
            Frame(8),
            Frame(9)
        ]
    );
    let s = jb.stats;
    assert_eq!(
        (s.played, s.concealed, s.late, s.discarded_duplicates),
        (8, 2, 1, 1)
    );
}

#[test]
fn adaptive_buffer_grows_on_late_packets() {
    let mut jb = JitterBuffer::new(
        JitterMode::Adaptive {
            min_ms: 20.0,
            max_ms: 100.0,
        },
        160,
    );
    jb.push(&pkt(0), 0);
    assert_eq!(jb.pull().0, Playout::Frame(0));
    assert_eq!(jb.pull().0, Playout::Missing);
    jb.push(&pkt(1), 500);
    assert_eq!(jb.stats.late, 1);
    assert_eq!(jb.pull().0, Playout::Stretch);
    assert_eq!(jb.delay_frames(), 2);
}

fn voip(loss: LossModel, jitter: JitterModel, jb: JitterMode, plc: Plc) -> VoipConfig {
    VoipConfig {
        payload: Payload::Pcma,
        ptime_ms: 20,
        network: NetworkConfig {
            loss,
            jitter,
            ..NetworkConfig::clean(50.0)
        },
        jitter_buffer: jb,
        plc,
    }
}

#[test]
fn clean_path_is_g711_delayed() {
    for ptime in [10, 20, 30] {
        let mut cfg = voip(
            LossModel::None,
            JitterModel::None,
            JitterMode::Fixed { delay_ms: 40.0 },
            Plc::Silence,
        );
        cfg.ptime_ms = ptime;
        let input = v29_signal(16_000);
        let mut path = VoipPath::new(cfg, 1);
        let out = run(&mut path, &input);
        // Delay: a packet leaves with its last sample (one frame less one sample), then
        // 50 ms of network and the 40 ms buffer (rounded up to whole frames).
        let frame = ptime as usize * 8;
        let jb = 320usize.div_ceil(frame) * frame;
        let delay = frame - 1 + 400 + jb;
        let snr = snr_db(&input[..16_000 - delay], &out[delay..], 0);
        println!(
            "clean VoIP path, ptime {ptime}: delay {delay} samples, SNR {snr:.1} dB (G.711 A-law)"
        );
        assert!(snr > 35.0, "{snr}");
        let s = path.stats();
        assert_eq!((s.lost_in_network, s.late, s.concealed), (0, 0, 0));
    }
}

#[test]
fn lossy_path_counts_are_consistent() {
    let cfg = voip(
        LossModel::Bernoulli { p: 0.03 },
        JitterModel::Exponential { mean_ms: 8.0 },
        JitterMode::Fixed { delay_ms: 30.0 },
        Plc::WaveformSubstitution,
    );
    let input = v29_signal(160_000);
    let mut path = VoipPath::new(cfg, 77);
    run(&mut path, &input);
    let s = path.stats();
    println!("lossy path: {s:?}");
    assert_eq!(s.sent, 1000);
    // Every packet the network delivered was played, or was late, or is still in flight
    // or queued at the end (at most the last few).
    let delivered = s.sent - s.lost_in_network;
    assert!(s.played + s.late <= delivered && delivered - s.played - s.late <= 10);
    assert!(s.concealed >= s.lost_in_network.saturating_sub(10));
    assert!(s.late > 0, "exponential jitter must produce late packets");
    assert!((s.lost_in_network as f64 / 1000.0 - 0.03).abs() < 0.015);
}

#[test]
fn adaptive_buffer_reduces_late_packets() {
    let jitter = JitterModel::Exponential { mean_ms: 15.0 };
    let input = v29_signal(160_000);
    let fixed = voip(
        LossModel::None,
        jitter,
        JitterMode::Fixed { delay_ms: 20.0 },
        Plc::Repeat,
    );
    let adaptive = voip(
        LossModel::None,
        jitter,
        JitterMode::Adaptive {
            min_ms: 20.0,
            max_ms: 200.0,
        },
        Plc::Repeat,
    );
    let mut a = VoipPath::new(fixed, 5);
    let mut b = VoipPath::new(adaptive, 5);
    run(&mut a, &input);
    run(&mut b, &input);
    println!(
        "exp jitter 15 ms: fixed 20 ms late {}, adaptive late {} (stretched {})",
        a.stats().late,
        b.stats().late,
        b.stats().stretched
    );
    assert!(b.stats().late * 2 < a.stats().late);
    assert!(b.stats().stretched > 0);
}

#[test]
fn waveform_substitution_beats_silence() {
    let input = sine(80_000, 440.0, 8000.0);
    let loss = LossModel::Bernoulli { p: 0.05 };
    let mut errs = Vec::new();
    for plc in [Plc::Silence, Plc::Repeat, Plc::WaveformSubstitution] {
        let mut path = VoipPath::new(
            voip(
                loss,
                JitterModel::None,
                JitterMode::Fixed { delay_ms: 20.0 },
                plc,
            ),
            3,
        );
        let out = run(&mut path, &input);
        let delay = 160 - 1 + 400 + 160;
        let snr = snr_db(&input[..80_000 - delay], &out[delay..], 1000);
        println!("5% loss on 440 Hz, PLC {plc:?}: SNR {snr:.1} dB");
        errs.push(snr);
    }
    assert!(errs[2] > errs[0] + 8.0, "{errs:?}");
}

#[test]
fn deterministic_and_block_invariant() {
    let cfg = voip(
        LossModel::GilbertElliott {
            p: 0.05,
            r: 0.3,
            loss_good: 0.0,
            loss_bad: 1.0,
        },
        JitterModel::Uniform { max_ms: 25.0 },
        JitterMode::Adaptive {
            min_ms: 20.0,
            max_ms: 120.0,
        },
        Plc::WaveformSubstitution,
    );
    let input = v29_signal(40_000);
    assert_block_invariant(|| VoipPath::new(cfg, 8), &input);
    let a = run(&mut VoipPath::new(cfg, 8), &input);
    let b = run(&mut VoipPath::new(cfg, 8), &input);
    let c = run(&mut VoipPath::new(cfg, 9), &input);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn rtp_header_bytes() {
    let mut out = Vec::new();
    let mut p = pkt(0x1234);
    p.len = 2;
    p.timestamp = 0x0102_0304;
    p.to_bytes(Payload::Pcmu, 0xAABB_CCDD, &mut out);
    assert_eq!(
        out,
        [
            0x80, 0, 0x12, 0x34, 1, 2, 3, 4, 0xAA, 0xBB, 0xCC, 0xDD, 0x34, 0x34
        ]
    );
}

#[test]
fn reordering_and_duplication_rates() {
    let cfg = NetworkConfig {
        reorder: 0.05,
        reorder_ms: 45.0,
        duplicate: 0.02,
        jitter: JitterModel::Exponential { mean_ms: 5.0 },
        ..NetworkConfig::clean(40.0)
    };
    let mut net = Network::new(cfg, 21);
    let n = 100_000;
    let mut arrivals = Vec::new();
    let mut dups = 0;
    for i in 0..n {
        let [a, b] = net.send(i as f64 * 20.0);
        arrivals.push((a.unwrap(), i));
        if b.is_some() {
            dups += 1;
        }
    }
    // A packet is out of order when a later-sent one arrives before it: with FIFO queueing
    // only the held-back ones (45 ms > two packet times) are overtaken.
    let overtaken = (0..n - 1)
        .filter(|&i| arrivals[i].0 > arrivals[i + 1].0)
        .count();
    println!(
        "reorder 5%: {:.2}% overtaken; duplicate 2%: {:.2}%",
        overtaken as f64 / n as f64 * 100.0,
        dups as f64 / n as f64 * 100.0
    );
    assert!((overtaken as f64 / n as f64 - 0.05).abs() < 0.005);
    assert!((dups as f64 / n as f64 - 0.02).abs() < 0.003);

    // The jitter buffer throws the extra copies away and counts them.
    let mut path = VoipPath::new(
        VoipConfig {
            payload: Payload::Pcmu,
            ptime_ms: 10,
            network: cfg,
            jitter_buffer: JitterMode::Fixed { delay_ms: 80.0 },
            plc: Plc::Repeat,
        },
        22,
    );
    run(&mut path, &v29_signal(80_000));
    let s = path.stats();
    println!("VoIP path with duplicates: {s:?}");
    assert_eq!(s.discarded_duplicates, s.duplicated);
    assert_eq!(s.late, 0, "80 ms of buffer covers the 45 ms hold-back");
}
