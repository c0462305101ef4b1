//! Fax modems: sample-level DSP at 8000 Hz, with no protocol knowledge.
//!
//! # Model
//! Transmitters turn data bits into samples; receivers turn samples into data bits and
//! [`RxEvent`]s (carrier up/down, training succeeded/failed). Samples are `i16` at the edges
//! and `f32` inside. Everything is block-oriented and streaming: a transmitter fills any
//! `&mut [i16]`, a receiver consumes any `&[i16]`, and the output never depends on how the
//! stream was cut into blocks. No allocation happens per block.
//!
//! Bits flow through two small traits so that one modem can feed an HDLC framer, a PRBS
//! generator, a file or T.4 image data without copying: a transmitter pulls bits from a
//! [`BitSource`], a receiver pushes bits and events into an [`RxSink`]. A source that returns
//! `None` ends the transmission: the transmitter sends its closing sequence and then reports
//! itself finished.
//!
//! Levels are in dBm0 (see [`level`]): 0 dBm0 is the G.711 reference level, a sine of peak
//! amplitude 22 786 in 16-bit samples (3.14 dB below the A-law full-scale sine).
//!
//! # Drive loop
//! ```
//! use modem::{BitSource, RxSink, RxEvent};
//! // Any modem pair follows the same loop; see each module for its constructor.
//! struct Ones(usize);
//! impl BitSource for Ones {
//!     fn next_bit(&mut self) -> Option<bool> {
//!         if self.0 == 0 { None } else { self.0 -= 1; Some(true) }
//!     }
//! }
//! #[derive(Default)]
//! struct Collect { bits: Vec<bool>, events: Vec<RxEvent> }
//! impl RxSink for Collect {
//!     fn bit(&mut self, bit: bool) { self.bits.push(bit) }
//!     fn event(&mut self, event: RxEvent) { self.events.push(event) }
//! }
//! let mut src = Ones(100);
//! assert_eq!(src.next_bit(), Some(true));
//! let mut sink = Collect::default();
//! sink.bit(true);
//! // let mut tx = modem::v29::V29Tx::new(&TxConfig { rate: 9600, ..Default::default() })?;
//! // let mut rx = modem::v29::V29Rx::new(&RxConfig { rate: 9600, ..Default::default() })?;
//! // let mut block = [0i16; 160];
//! // while !tx.is_finished() {
//! //     let n = tx.fill(&mut block, &mut src);
//! //     rx.process(&block, &mut sink);
//! // }
//! ```
//!
//! # Speed without machine-dependent results
//! The QAM receivers' hot paths are compiled twice, for the x86-64 baseline and for AVX2,
//! and the choice is made at run time ([`simd`]); the transmitters' block shaper does the
//! same. Every vector kernel has a scalar reference it is tested against, and the two
//! compilations perform the same floating-point operations in the same order (no fused
//! multiply-add), so a call gives the same bits on any machine.
#![warn(missing_docs)]

pub mod crc;
pub mod dsp;
pub mod hdlc;
pub mod level;
pub mod prbs;
pub mod qam;
pub mod scrambler;
pub mod simd;
pub mod tones;
pub mod trellis;
pub mod v17;
pub mod v21;
pub mod v27ter;
pub mod v29;

use thiserror::Error;

/// The sample rate of every signal in this crate, in Hz.
pub const SAMPLE_RATE: u32 = 8000;

/// Errors of this crate: bad configuration only. Signal trouble (no carrier, failed
/// training) is reported as [`RxEvent`]s, never as an error.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The modem does not support the requested bit rate.
    #[error("{modem} does not support {rate} bit/s")]
    UnsupportedRate {
        /// The modem's name.
        modem: &'static str,
        /// The rate asked for.
        rate: u32,
    },
    /// A configuration value is out of range.
    #[error("invalid modem configuration: {0}")]
    InvalidConfig(String),
}

/// The modems a fax call can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModemKind {
    /// V.21 channel 1 (1080 Hz ± 100 Hz, 300 bit/s FSK).
    V21Ch1,
    /// V.21 channel 2 (1750 Hz ± 100 Hz, 300 bit/s FSK): the T.30 control channel.
    V21Ch2,
    /// V.27ter DPSK, 2400/4800 bit/s.
    V27ter,
    /// V.29 QAM, 4800/7200/9600 bit/s (T.30 uses 7200 and 9600).
    V29,
    /// V.17 trellis-coded QAM, 7200/9600/12000/14400 bit/s.
    V17,
}

impl ModemKind {
    /// The bit rates this modem supports, lowest first.
    pub fn rates(self) -> &'static [u32] {
        match self {
            ModemKind::V21Ch1 | ModemKind::V21Ch2 => &[300],
            ModemKind::V27ter => &[2400, 4800],
            ModemKind::V29 => &[4800, 7200, 9600],
            ModemKind::V17 => &[7200, 9600, 12000, 14400],
        }
    }

    /// The conventional short name (`v21`, `v27ter`, `v29`, `v17`).
    pub fn name(self) -> &'static str {
        match self {
            ModemKind::V21Ch1 => "v21ch1",
            ModemKind::V21Ch2 => "v21",
            ModemKind::V27ter => "v27ter",
            ModemKind::V29 => "v29",
            ModemKind::V17 => "v17",
        }
    }

    /// Checks that `rate` is one this modem supports.
    pub fn check_rate(self, rate: u32) -> Result<(), Error> {
        if self.rates().contains(&rate) {
            Ok(())
        } else {
            Err(Error::UnsupportedRate {
                modem: self.name(),
                rate,
            })
        }
    }
}

/// Transmitter settings shared by every modem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TxConfig {
    /// Bit rate in bit/s.
    pub rate: u32,
    /// Use the short (resynchronising) training where the modem has one (V.17, V.27ter).
    pub short_train: bool,
    /// Transmit level in dBm0 (mean power of the modulated signal).
    pub level_dbm0: f32,
}

impl Default for TxConfig {
    fn default() -> Self {
        TxConfig {
            rate: 0,
            short_train: false,
            level_dbm0: level::DEFAULT_TX_DBM0,
        }
    }
}

/// Receiver settings shared by every modem.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RxConfig {
    /// Bit rate in bit/s.
    pub rate: u32,
    /// Expect the short training (keeps the equalizer from the previous long training).
    pub short_train: bool,
}

/// A source of data bits for a transmitter. `None` means the data has ended.
pub trait BitSource {
    /// The next bit to send, or `None` when there is no more data.
    fn next_bit(&mut self) -> Option<bool>;

    /// Up to `n` (at most 32) next bits, the first in bit 0, and how many there were: fewer
    /// than `n` once the data has ended (no bit is asked for after the first `None`). The
    /// transmitters take a symbol's bits in one call, which saves a dynamic call per bit.
    fn next_bits(&mut self, n: u32) -> (u32, u32) {
        let mut bits = 0;
        for i in 0..n {
            match self.next_bit() {
                Some(b) => bits |= (b as u32) << i,
                None => return (bits, i),
            }
        }
        (bits, n)
    }
}

/// Bits waiting to go out, the first in bit 0: the register a bit source fills a piece at a
/// time and drains a bit or a symbol's worth at a time.
#[derive(Debug, Clone, Default)]
pub struct BitRegister {
    bits: u64,
    len: u32,
}

impl BitRegister {
    /// Bits held.
    #[inline]
    pub fn len(&self) -> u32 {
        self.len
    }

    /// True when no bit is held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the `len` low bits of `bits` after those held (at most 64 in all).
    #[inline]
    pub fn push(&mut self, bits: u64, len: u32) {
        debug_assert!(self.len + len <= 64);
        self.bits |= bits.checked_shl(self.len).unwrap_or(0);
        self.len += len;
    }

    /// The first bit held, `None` when empty.
    #[inline]
    pub fn pop_bit(&mut self) -> Option<bool> {
        if self.len == 0 {
            return None;
        }
        let b = self.bits & 1 != 0;
        self.bits >>= 1;
        self.len -= 1;
        Some(b)
    }

    /// Up to `n` (at most 32) first bits, the first in bit 0, and how many there were.
    #[inline]
    pub fn pop_bits(&mut self, n: u32) -> (u32, u32) {
        let k = self.len.min(n);
        if k == 0 {
            return (0, 0);
        }
        let bits = (self.bits & (u64::MAX >> (64 - k))) as u32;
        self.bits = self.bits.checked_shr(k).unwrap_or(0);
        self.len -= k;
        (bits, k)
    }

    /// Everything held and how many bits, emptying the register; `None` when empty.
    #[inline]
    pub fn take(&mut self) -> Option<(u64, u32)> {
        if self.len == 0 {
            return None;
        }
        let out = (self.bits, self.len);
        *self = BitRegister::default();
        Some(out)
    }
}

impl<F: FnMut() -> Option<bool>> BitSource for F {
    fn next_bit(&mut self) -> Option<bool> {
        self()
    }
}

/// What a receiver reports besides data bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RxEvent {
    /// Energy rose above the carrier-on threshold.
    CarrierUp {
        /// Signal level when detected, dBm0.
        level_dbm0: f32,
    },
    /// Energy fell below the carrier-off threshold.
    CarrierDown,
    /// The training sequence was recognised and the equalizer converged; data bits follow.
    TrainingSucceeded {
        /// Bit rate of the data that follows.
        rate: u32,
        /// SNR estimate at the end of training, dB.
        snr_db: f32,
    },
    /// A carrier was present but training did not complete.
    TrainingFailed,
}

/// A receiver's view of the signal, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quality {
    /// Received signal level, dBm0.
    pub level_dbm0: f32,
    /// SNR estimate from the decision error (or tone purity for FSK), dB.
    pub snr_db: f32,
    /// Estimated carrier frequency offset, Hz.
    pub carrier_offset_hz: f32,
    /// Estimated symbol-clock offset, ppm (positive: far end's clock is fast).
    pub timing_offset_ppm: f32,
    /// Whether the receiver is trained and delivering data.
    pub trained: bool,
}

/// Receives data bits and events from a receiver.
pub trait RxSink {
    /// One received data bit, in transmission order.
    fn bit(&mut self, bit: bool);
    /// `n` (at most 32) received data bits at once, the first in bit 0 of `bits`: what a
    /// receiver that decides several bits per symbol hands over. The default passes them to
    /// [`RxSink::bit`] one by one, in a loop the compiler sees through (one dynamic call per
    /// symbol instead of one per bit).
    #[inline]
    fn bits(&mut self, bits: u32, n: u32) {
        for i in 0..n {
            self.bit((bits >> i) & 1 != 0);
        }
    }
    /// A receiver event.
    fn event(&mut self, event: RxEvent);
}

/// A modulator.
pub trait Transmitter {
    /// Fills `out` with samples and returns how many were written. Fewer than `out.len()`
    /// means the transmission ended inside this block (the caller pads with silence);
    /// afterwards [`Transmitter::is_finished`] is true and `fill` writes nothing.
    fn fill(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize;
    /// True once the closing sequence has been sent.
    fn is_finished(&self) -> bool;
}

/// A demodulator.
pub trait Receiver {
    /// Consumes samples, pushing bits and events into `sink`.
    fn process(&mut self, samples: &[i16], sink: &mut dyn RxSink);
    /// The current signal-quality estimate.
    fn quality(&self) -> Quality;
    /// Prepares for a new signal with `cfg`. A short-train restart keeps what was learnt
    /// from the last long training (equalizer, timing) as the standard intends.
    fn restart(&mut self, cfg: &RxConfig) -> Result<(), Error>;
    /// The last equalised, carrier-corrected symbol (in-phase, quadrature), for
    /// constellation plots; `None` for receivers without symbols (FSK).
    fn last_symbol(&self) -> Option<(f32, f32)> {
        None
    }
}

/// Builds our transmitter for `kind` (the one place that maps a kind to its type).
pub fn new_transmitter(
    kind: ModemKind,
    cfg: &TxConfig,
) -> Result<Box<dyn Transmitter + Send>, Error> {
    kind.check_rate(cfg.rate)?;
    Ok(match kind {
        ModemKind::V21Ch1 => Box::new(v21::V21Tx::new(v21::V21Channel::Ch1, cfg)?),
        ModemKind::V21Ch2 => Box::new(v21::V21Tx::new(v21::V21Channel::Ch2, cfg)?),
        ModemKind::V27ter => Box::new(v27ter::V27terTx::new(cfg)?),
        ModemKind::V29 => Box::new(v29::V29Tx::new(cfg)?),
        ModemKind::V17 => Box::new(v17::V17Tx::new(cfg)?),
    })
}

/// Builds our receiver for `kind`.
pub fn new_receiver(kind: ModemKind, cfg: &RxConfig) -> Result<Box<dyn Receiver + Send>, Error> {
    kind.check_rate(cfg.rate)?;
    Ok(match kind {
        ModemKind::V21Ch1 => Box::new(v21::V21Rx::new(v21::V21Channel::Ch1, cfg)?),
        ModemKind::V21Ch2 => Box::new(v21::V21Rx::new(v21::V21Channel::Ch2, cfg)?),
        ModemKind::V27ter => Box::new(v27ter::V27terRx::new(cfg)?),
        ModemKind::V29 => Box::new(v29::V29Rx::new(cfg)?),
        ModemKind::V17 => Box::new(v17::V17Rx::new(cfg)?),
    })
}
