//! A number that answers as voice: an auto-attendant or voicemail greeting (or silence)
//! instead of CED, with optional fax detection. The detector listens for the caller's CNG
//! (1100 Hz, 0.5 s on, 3 s off) while the greeting plays, hearing the greeting's own echo
//! from the near hybrid too (so a loud greeting can mask a weak CNG); on CNG the call is
//! diverted to the fax receiver, which then starts as if it had just answered (CED, DIS).
//! Without detection the line stays a voice call: the fax receiver never starts, and the
//! caller times out waiting for DIS.

use modem::tones::{Tone, ToneDetector, ToneEvent};
use serde::Deserialize;
use t30::SampleTime;

use super::{Endpoint, EndpointOutcome};

/// What the voice line plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Greeting {
    /// A spoken greeting (a speech-like signal: voiced syllables with pauses), then silence.
    #[default]
    Speech,
    /// Silence (an answering machine waiting for a message).
    Silence,
}

/// A voice answer (`[answerer.voice]` in scenarios).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceAnswer {
    /// What is played.
    #[serde(default)]
    pub greeting: Greeting,
    /// How long the greeting lasts (ms).
    #[serde(default = "default_greeting_ms")]
    pub greeting_ms: u32,
    /// Greeting level (dBm0).
    #[serde(default = "default_greeting_dbm0")]
    pub greeting_dbm0: f64,
    /// Whether a CNG detector diverts the call to the fax receiver.
    #[serde(default)]
    pub fax_detect: bool,
    /// Echo return loss of the near hybrid through which the detector hears the greeting (dB).
    #[serde(default = "default_echo_erl_db")]
    pub echo_erl_db: f64,
}

fn default_greeting_ms() -> u32 {
    6000
}
fn default_greeting_dbm0() -> f64 {
    -16.0
}
fn default_echo_erl_db() -> f64 {
    12.0
}

impl Default for VoiceAnswer {
    fn default() -> Self {
        VoiceAnswer {
            greeting: Greeting::Speech,
            greeting_ms: default_greeting_ms(),
            greeting_dbm0: default_greeting_dbm0(),
            fax_detect: false,
            echo_erl_db: default_echo_erl_db(),
        }
    }
}

/// The voice line in front of a fax endpoint.
pub struct VoiceLine<'a> {
    cfg: VoiceAnswer,
    fax: &'a mut dyn Endpoint,
    detector: ToneDetector,
    started: SampleTime,
    /// When the call was diverted to the fax receiver.
    diverted: Option<SampleTime>,
    /// Samples of greeting played so far.
    played: u64,
    /// The greeting's last block, heard back through the hybrid.
    echo: Vec<i16>,
    cleared: bool,
    mixed: Vec<i16>,
}

impl<'a> VoiceLine<'a> {
    /// A voice line answering for `fax`.
    pub fn new(cfg: VoiceAnswer, fax: &'a mut dyn Endpoint) -> VoiceLine<'a> {
        VoiceLine {
            cfg,
            fax,
            detector: ToneDetector::new(),
            started: SampleTime(0),
            diverted: None,
            played: 0,
            echo: Vec::new(),
            cleared: false,
            mixed: Vec::new(),
        }
    }

    /// When the CNG detector diverted the call (None: it stayed a voice call).
    pub fn diverted_at(&self) -> Option<SampleTime> {
        self.diverted
    }

    /// Sample `n` of the greeting: a 120 Hz voiced source with harmonics to 3 kHz, in
    /// syllables of 200 ms (a 4 Hz envelope) grouped in 1.5 s phrases with 0.5 s pauses.
    fn greeting_sample(&self, n: u64) -> i16 {
        if self.cfg.greeting == Greeting::Silence || n >= u64::from(self.cfg.greeting_ms) * 8 {
            return 0;
        }
        let t = n as f64 / 8000.0;
        if t % 2.0 >= 1.5 {
            return 0;
        }
        let env = (std::f64::consts::PI * 5.0 * t).sin().abs();
        // Vary the pitch a little, as speech does.
        let f0 = 120.0 + 15.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
        let mut x = 0.0;
        for h in 1..=25 {
            x += (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64;
        }
        let rms = modem::level::dbm0_to_rms(self.cfg.greeting_dbm0 as f32) as f64;
        (x * env * rms).clamp(-32768.0, 32767.0) as i16
    }
}

impl Endpoint for VoiceLine<'_> {
    fn start(&mut self, now: SampleTime) {
        self.started = now;
    }

    fn transmit(&mut self, now: SampleTime, out: &mut [i16]) {
        if self.diverted.is_some() {
            self.fax.transmit(now, out);
            return;
        }
        for o in out.iter_mut() {
            *o = self.greeting_sample(self.played);
            self.played += 1;
        }
        self.echo.clear();
        self.echo.extend_from_slice(out);
    }

    fn receive(&mut self, now: SampleTime, samples: &[i16]) {
        if self.diverted.is_some() {
            self.fax.receive(now, samples);
            return;
        }
        if !self.cfg.fax_detect {
            return;
        }
        let gain = 10f64.powf(-self.cfg.echo_erl_db / 20.0);
        self.mixed.clear();
        self.mixed.extend(samples.iter().enumerate().map(|(i, &s)| {
            let e = self.echo.get(i).copied().unwrap_or(0) as f64 * gain;
            (s as f64 + e).clamp(-32768.0, 32767.0) as i16
        }));
        let mut cng = false;
        self.detector.process(&self.mixed, &mut |e| {
            if let ToneEvent::On {
                tone: Tone::Cng, ..
            } = e
            {
                cng = true;
            }
        });
        if cng {
            // Divert: the fax receiver answers now, from its first sample (CED, then DIS).
            let at = SampleTime(now.0 + samples.len() as u64);
            self.diverted = Some(at);
            self.fax.start(at);
        }
    }

    fn line_cleared(&mut self, now: SampleTime) {
        self.cleared = true;
        if self.diverted.is_none() {
            // The fax receiver was never reached: it starts and finds the line gone.
            self.fax.start(now);
        }
        self.fax.line_cleared(now);
    }

    fn hung_up(&self) -> bool {
        self.diverted.is_some() && self.fax.hung_up()
    }

    fn finished(&self) -> bool {
        (self.diverted.is_some() || self.cleared) && self.fax.finished()
    }

    fn outcome(&self) -> Option<EndpointOutcome> {
        self.fax.outcome()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem::Transmitter;
    use modem::tones::ToneTx;

    /// A fax receiver that only notes when it was started.
    struct Stub(Option<SampleTime>);

    impl Endpoint for Stub {
        fn start(&mut self, now: SampleTime) {
            self.0 = Some(now);
        }
        fn transmit(&mut self, _: SampleTime, out: &mut [i16]) {
            out.fill(0);
        }
        fn receive(&mut self, _: SampleTime, _: &[i16]) {}
        fn line_cleared(&mut self, _: SampleTime) {}
        fn hung_up(&self) -> bool {
            false
        }
        fn finished(&self) -> bool {
            false
        }
        fn outcome(&self) -> Option<EndpointOutcome> {
            None
        }
    }

    struct NoBits;
    impl modem::BitSource for NoBits {
        fn next_bit(&mut self) -> Option<bool> {
            None
        }
    }

    /// When (ms) a voice line with `cfg` diverts a caller whose CNG (at `cng_dbm0`) starts
    /// `cng_delay_ms` after the answer; None within 20 s.
    fn diversion_ms(cfg: VoiceAnswer, cng_dbm0: f32, cng_delay_ms: u64) -> Option<u64> {
        let mut stub = Stub(None);
        let mut line = VoiceLine::new(cfg, &mut stub);
        line.start(SampleTime(0));
        let mut cng = ToneTx::cng(cng_dbm0);
        let mut tx = [0i16; 160];
        let mut rx = [0i16; 160];
        for block in 0..1000u64 {
            let now = SampleTime(block * 160);
            line.transmit(now, &mut tx);
            rx.fill(0);
            if block * 20 >= cng_delay_ms {
                cng.fill(&mut rx, &mut NoBits);
            }
            line.receive(now, &rx);
            if let Some(t) = line.diverted_at() {
                return Some(t.0 / 8);
            }
        }
        None
    }

    #[test]
    fn cng_is_detected_after_its_first_burst_and_a_loud_greeting_echo_delays_it() {
        let detect = VoiceAnswer {
            fax_detect: true,
            ..VoiceAnswer::default()
        };
        // CNG from 1 s after the answer: detected within its first 0.5 s burst.
        let quiet = diversion_ms(detect, -10.0, 1000).expect("detected");
        println!("greeting -16 dBm0, echo 12 dB: CNG detected at {quiet} ms");
        assert!((1000..1600).contains(&quiet), "{quiet}");
        // Without detection nothing diverts.
        assert_eq!(diversion_ms(VoiceAnswer::default(), -10.0, 1000), None);
        // A weak CNG under a loud greeting heard back with little loss: masked while the
        // greeting speaks, detected in a later burst (the bursts repeat every 3.5 s).
        let loud = VoiceAnswer {
            greeting_dbm0: -3.0,
            echo_erl_db: 0.0,
            greeting_ms: 12_000,
            ..detect
        };
        let masked = diversion_ms(loud, -30.0, 1000);
        println!("greeting -3 dBm0, echo 0 dB, CNG -30 dBm0: detected at {masked:?} ms");
        assert!(masked.is_some_and(|t| t > 4000), "{masked:?}");
        // A silent greeting never masks.
        let silent = VoiceAnswer {
            greeting: Greeting::Silence,
            ..loud
        };
        let s = diversion_ms(silent, -30.0, 1000).expect("detected");
        assert!((1000..1600).contains(&s), "{s}");
    }
}
