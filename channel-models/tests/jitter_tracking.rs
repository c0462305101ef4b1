//! The tracking jitter buffer (JitterMode::Tracking): its RFC 3550 jitter estimate and target
//! delay follow a step in network jitter (up fast, down slowly), it re-sizes in silences
//! but a late packet mid-signal re-sizes it at once, and it loses fewer packets to lateness
//! than a fixed shallow buffer.

mod common;
use common::{run, v29_signal};

use channel_models::packet::{
    JitterBuffer, JitterMode, JitterModel, LossModel, NetworkConfig, Payload, Playout, Plc,
    RtpPacket, VoipConfig, VoipPath,
};
use channel_models::rng::Rng;

const FRAME: u64 = 160;

/// What the buffer looked like at the end of each second.
#[derive(Debug, Clone, Copy)]
struct Second {
    jitter_ms: f64,
    target_ms: f64,
    delay_ms: f64,
    late: u64,
    stretched: u64,
    shrunk: u64,
}

/// Sends `seconds` of 20 ms packets (byte `fill`) across a FIFO network of 40 ms plus a
/// uniform jitter of `jitter_max_ms(second)`, into `jb`, pulled every 20 ms once playout
/// starts, as the VoIP path does.
fn drive(
    jb: &mut JitterBuffer,
    seconds: usize,
    fill: u8,
    jitter_max_ms: impl Fn(usize) -> f64,
) -> Vec<Second> {
    let mut rng = Rng::new(7);
    let n = seconds * 50;
    let mut arrivals = Vec::with_capacity(n);
    let mut last = 0u64;
    for k in 0..n {
        let sent = (k as u64 + 1) * FRAME;
        let j = jitter_max_ms(k / 50) * rng.uniform();
        let at = (sent + 320 + (j * 8.0).round() as u64).max(last);
        last = at;
        arrivals.push((at, k));
    }
    let mut out = Vec::new();
    let (mut i, mut next_pull) = (0usize, None::<u64>);
    for now in 0..(n as u64 + 50) * FRAME {
        while i < n && arrivals[i].0 <= now {
            let k = arrivals[i].1;
            let pkt = RtpPacket {
                seq: k as u16,
                timestamp: (k as u64 * FRAME) as u32,
                len: FRAME as u16,
                data: [fill; 240],
            };
            jb.push(&pkt, now);
            i += 1;
        }
        if next_pull.is_none()
            && let Some(s) = jb.playout_start()
            && now >= s
        {
            next_pull = Some(now);
        }
        if next_pull == Some(now) {
            let _ = jb.pull();
            next_pull = Some(now + FRAME);
        }
        if now % 8000 == 7999 {
            out.push(Second {
                jitter_ms: jb.jitter_estimate_ms(),
                target_ms: jb.target_delay_ms(),
                delay_ms: jb.delay_ms(),
                late: jb.stats.late,
                stretched: jb.stats.stretched,
                shrunk: jb.stats.shrunk,
            });
        }
    }
    out
}

fn tracking() -> JitterBuffer {
    JitterBuffer::new(
        JitterMode::Tracking {
            min_ms: 20.0,
            max_ms: 300.0,
        },
        FRAME as usize,
    )
    .with_payload(Payload::Pcma)
}

/// A-law silence (the code of 0).
const SILENT: u8 = 0xD5;
/// A loud A-law code (a modem signal never pauses).
const LOUD: u8 = 0xAA;

#[test]
fn target_delay_follows_a_step_in_jitter_up_fast_and_down_slowly() {
    // 10 s of 0-5 ms jitter, 10 s of 0-80 ms, 20 s of 0-5 ms again; silent frames, so the
    // buffer may re-size whenever it wants.
    let jitter = |s: usize| if (10..20).contains(&s) { 80.0 } else { 5.0 };
    let mut jb = tracking();
    let secs = drive(&mut jb, 40, SILENT, jitter);
    for (s, x) in secs.iter().enumerate() {
        println!(
            "second {s:2}: jitter {:5.1} ms, target {:5.1} ms, delay {:5.1} ms, late {:3}, stretched {:2}, shrunk {:2}",
            x.jitter_ms, x.target_ms, x.delay_ms, x.late, x.stretched, x.shrunk
        );
    }
    let before = secs[9];
    // RFC 3550 J of uniform jitter on [0, a] tends to a/3 (the mean |X - Y|).
    assert!(before.jitter_ms < 4.0, "{before:?}");
    assert!(before.delay_ms <= 40.0, "{before:?}");
    // One second into the step the target and the delay have followed it.
    let step = secs[11];
    assert!(step.jitter_ms > 15.0, "{step:?}");
    assert!(step.target_ms > 60.0, "{step:?}");
    assert!(step.delay_ms >= 60.0, "{step:?}");
    // Steady state in the high jitter: few late packets after the first second.
    let high_late = secs[19].late - secs[11].late;
    assert!(
        high_late <= 8,
        "late packets in 8 s of steady jitter: {high_late}"
    );
    // Down slowly: a second after the step down the delay is still high (the estimate
    // needs a second of calm packets, then two seconds one frame deeper than the target).
    assert!(secs[21].delay_ms >= step.delay_ms - 20.0, "{:?}", secs[21]);
    assert!(secs[21].target_ms < step.target_ms, "{:?}", secs[21]);
    // ... and back near the start twenty seconds later, one frame at a time.
    let end = secs[39];
    assert!(end.delay_ms <= 60.0, "{end:?}");
    assert!(end.shrunk >= 3, "{end:?}");
}

#[test]
fn a_continuous_signal_is_resized_only_by_late_packets() {
    // The same step, but every frame carries signal (a fax page): no silence to re-size in,
    // so the buffer grows only when a frame is already missing or late, each growth a frame
    // inserted mid-signal; it stays below its target and never shrinks.
    let jitter = |s: usize| if s >= 5 { 80.0 } else { 5.0 };
    let mut loud = tracking();
    let l = drive(&mut loud, 12, LOUD, jitter);
    let mut quiet = tracking();
    let q = drive(&mut quiet, 12, SILENT, jitter);
    let (l, q) = (l[11], q[11]);
    println!("signal: {l:?}\nsilence: {q:?}");
    assert!(l.stretched > 0, "{l:?}");
    assert_eq!(l.shrunk, 0);
    assert!(l.delay_ms < l.target_ms, "{l:?}");
    // In silence the buffer reached its target.
    assert!(q.delay_ms >= q.target_ms, "{q:?}");
}

fn voip(jb: JitterMode) -> VoipConfig {
    VoipConfig {
        payload: Payload::Pcma,
        ptime_ms: 20,
        network: NetworkConfig {
            jitter: JitterModel::Exponential { mean_ms: 15.0 },
            loss: LossModel::None,
            ..NetworkConfig::clean(50.0)
        },
        jitter_buffer: jb,
        plc: Plc::Repeat,
    }
}

#[test]
fn fewer_late_packets_than_a_fixed_shallow_buffer() {
    let input = v29_signal(160_000);
    let mut fixed = VoipPath::new(voip(JitterMode::Fixed { delay_ms: 20.0 }), 5);
    let mut track = VoipPath::new(
        voip(JitterMode::Tracking {
            min_ms: 20.0,
            max_ms: 200.0,
        }),
        5,
    );
    run(&mut fixed, &input);
    run(&mut track, &input);
    let (f, t) = (fixed.stats(), track.stats());
    println!(
        "exp jitter 15 ms over 20 s of V.29: fixed 20 ms late {}, tracking late {} (stretched {}, delay {} ms, jitter estimate {:.1} ms)",
        f.late,
        t.late,
        t.stretched,
        track.jitter_buffer().delay_ms(),
        track.jitter_buffer().jitter_estimate_ms()
    );
    assert!(t.late * 4 < f.late, "{t:?} {f:?}");
    assert!(t.stretched > 0);
}

#[test]
fn tracking_is_deterministic_and_block_invariant() {
    let cfg = voip(JitterMode::Tracking {
        min_ms: 20.0,
        max_ms: 120.0,
    });
    let input = v29_signal(40_000);
    common::assert_block_invariant(|| VoipPath::new(cfg, 8), &input);
    let a = run(&mut VoipPath::new(cfg, 8), &input);
    let b = run(&mut VoipPath::new(cfg, 8), &input);
    assert_eq!(a, b);
    // A stretch is a concealed frame, visible in the playout stream.
    let mut jb = tracking();
    jb.push(
        &RtpPacket {
            seq: 0,
            timestamp: 0,
            len: 160,
            data: [LOUD; 240],
        },
        0,
    );
    assert_eq!(jb.pull().0, Playout::Frame(0));
    assert_eq!(jb.pull().0, Playout::Missing);
    jb.push(
        &RtpPacket {
            seq: 1,
            timestamp: 160,
            len: 160,
            data: [LOUD; 240],
        },
        700,
    );
    assert_eq!(jb.stats.late, 1);
    assert_eq!(jb.pull().0, Playout::Stretch);
    assert_eq!(jb.delay_frames(), 2);
}
