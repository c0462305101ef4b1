//! The shipped sweeps (`faxsim sweep --preset NAME`), each sized to run in a few minutes
//! on two cores.

use channel_models::chain::ChainSpec;
use modem::ModemKind;

use super::ber::BerSpec;
use super::{Axis, Implementation, Key, SeriesSpec, SweepSpec, TransportName, Value, default_t38};

/// A preset: calls over a grid, or the modem-level BER sweep.
#[derive(Debug, Clone, PartialEq)]
pub enum Preset {
    /// Calls.
    Calls(SweepSpec),
    /// Modem BER.
    Ber(BerSpec),
}

/// Every preset with what it shows.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "loss",
        "success rate vs packet loss: G.711 passthrough against T.38 with redundancy 0, 1 and 3",
    ),
    (
        "snr",
        "success rate and time per page vs SNR, per modem (V.17, V.29, V.27ter) over G.711",
    ),
    (
        "ber",
        "bit error ratio vs SNR per modem and rate, ours next to spandsp's (modem layer only)",
    ),
    (
        "jitter",
        "time per page and success vs network jitter, fixed against adaptive jitter buffer",
    ),
    (
        "drift",
        "success rate vs sample-clock drift of the line, per modem",
    ),
];

fn axis(key: Key, values: &[f64]) -> Axis {
    Axis {
        key,
        values: values.iter().map(|v| Value::Num(*v)).collect(),
    }
}

fn modems() -> Axis {
    Axis {
        key: Key::Modem,
        values: ["v17", "v29", "v27ter"]
            .iter()
            .map(|m| Value::Cat(m.to_string()))
            .collect(),
    }
}

fn builtin(label: &str, transport: TransportName, channel: ChainSpec) -> SeriesSpec {
    SeriesSpec {
        label: label.into(),
        transport,
        channel,
        implementation: Implementation::Builtin,
        fixed: Vec::new(),
    }
}

fn g711() -> ChainSpec {
    ChainSpec::preset("g711-alaw").expect("preset exists")
}

/// The preset `name`; `calls` replaces its default calls per point.
pub fn preset(name: &str, calls: Option<u32>, seed: u64) -> Option<Preset> {
    let spec = |name: &str, description: &str, series, axes, default_calls: u32| SweepSpec {
        name: name.into(),
        description: description.into(),
        series,
        axes,
        calls: calls.unwrap_or(default_calls),
        pages: 1,
        seed,
        ecm: true,
        modems: "v17,v29,v27ter".into(),
        limit_s: 300,
    };
    Some(match name {
        "loss" => {
            let t38_channel = ChainSpec {
                name: "t38-clean".into(),
                description: "UDPTL over a 40 ms network, random (Bernoulli) loss".into(),
                t38: Some(default_t38()),
                ..ChainSpec::default()
            };
            let mut series = vec![builtin("G.711 passthrough", TransportName::Audio, g711())];
            for r in [0.0, 1.0, 3.0] {
                let mut s = builtin(
                    &format!("T.38 redundancy {r}"),
                    TransportName::T38,
                    t38_channel.clone(),
                );
                s.fixed.push((Key::Redundancy, Value::Num(r)));
                series.push(s);
            }
            Preset::Calls(spec(
                "loss",
                "One-page V.17 calls with ECM against random packet loss on the media path: G.711 A-law over RTP (20 ms packets, fixed 60 ms jitter buffer, waveform-substitution concealment) against T.38 over UDPTL with 0, 1 and 3 redundant IFPs per packet, 40 ms one-way delay, no jitter.",
                series,
                vec![axis(Key::Loss, &[0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.2])],
                40,
            ))
        }
        "snr" => Preset::Calls(spec(
            "snr",
            "One-page calls with ECM over G.711 A-law with white noise before the codec, each modem offered alone; SNR against the -10 dBm0 transmit level.",
            vec![builtin("builtin", TransportName::Audio, g711())],
            vec![
                axis(
                    Key::SnrDb,
                    &[14.0, 18.0, 22.0, 26.0, 30.0, 34.0, 38.0, 42.0, 46.0],
                ),
                modems(),
            ],
            16,
        )),
        "jitter" => Preset::Calls(spec(
            "jitter",
            "One-page V.17 calls with ECM over G.711 A-law RTP without loss, exponential network jitter of the given mean, with a fixed 60 ms jitter buffer against an adaptive one (40-300 ms).",
            vec![builtin("builtin", TransportName::Audio, g711())],
            vec![
                axis(Key::JitterMs, &[0.0, 5.0, 10.0, 20.0, 40.0, 60.0]),
                Axis {
                    key: Key::JitterBuffer,
                    values: vec![Value::Cat("fixed".into()), Value::Cat("adaptive".into())],
                },
            ],
            16,
        )),
        "drift" => Preset::Calls(spec(
            "drift",
            "One-page calls with ECM over G.711 A-law with the line's sample clock off by the given drift, each modem offered alone.",
            vec![builtin("builtin", TransportName::Audio, g711())],
            vec![
                axis(
                    Key::DriftPpm,
                    &[0.0, 25.0, 50.0, 100.0, 150.0, 200.0, 300.0],
                ),
                modems(),
            ],
            16,
        )),
        "ber" => Preset::Ber(BerSpec {
            modems: [ModemKind::V27ter, ModemKind::V29, ModemKind::V17]
                .into_iter()
                .map(|k| (k, k.rates().to_vec()))
                .collect(),
            snrs_db: (0..=15).map(|i| f64::from(i) * 2.0).collect(),
            bits: u64::from(calls.unwrap_or(100)) * 1000,
            seed,
            peer: true,
        }),
        _ => return None,
    })
}

/// `spec` with a spandsp twin after each series (same channel and parameters).
pub fn with_spandsp(mut spec: SweepSpec) -> SweepSpec {
    let mut series = Vec::new();
    for s in spec.series {
        let mut twin = s.clone();
        twin.implementation = Implementation::Spandsp;
        twin.label = if s.label == "builtin" {
            "spandsp".into()
        } else {
            format!("{} (spandsp)", s.label)
        };
        series.push(s);
        series.push(twin);
    }
    spec.series = series;
    spec
}
