//! Building modems for the command line and the sweeps: ours (the `modem` crate) or spandsp's
//! (through `spandsp-peer`), both behind the `modem` crate's [`Transmitter`] and [`Receiver`]
//! traits so every harness drives them the same way.

use std::fmt;
use std::sync::Arc;

use modem::{
    BitSource, ModemKind, Quality, Receiver, RxConfig, RxEvent, RxSink, Transmitter, TxConfig,
};
use spandsp_peer::{ModemRx, ModemTx, PeerModem, PeerRxEvent, Spandsp};

/// Whose modem implementation to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Implementation {
    /// faxsim's own modems.
    Ours,
    /// spandsp's, loaded at run time.
    Spandsp,
}

impl Implementation {
    /// Short name for tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Ours => "ours",
            Implementation::Spandsp => "spandsp",
        }
    }
}

/// Why a modem could not be built.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildError {
    /// The configuration is invalid (rate the modem does not have, level out of range…).
    Config(String),
    /// The implementation cannot run here (not in this build, library missing).
    Unavailable(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Config(m) | BuildError::Unavailable(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BuildError {}

fn label(kind: ModemKind) -> &'static str {
    match kind {
        ModemKind::V21Ch1 => "V.21 channel 1",
        ModemKind::V21Ch2 => "V.21 channel 2",
        ModemKind::V27ter => "V.27ter",
        ModemKind::V29 => "V.29",
        ModemKind::V17 => "V.17",
    }
}

/// Builds our transmitter. This is the one place the CLI and the sweeps create our
/// modulators.
pub fn our_tx(kind: ModemKind, cfg: &TxConfig) -> Result<Box<dyn Transmitter>, BuildError> {
    modem::new_transmitter(kind, cfg)
        .map(|t| t as Box<dyn Transmitter>)
        .map_err(|e| BuildError::Config(format!("our {} transmitter: {e}", label(kind))))
}

/// Builds our receiver. This is the one place the CLI and the sweeps create our
/// demodulators.
pub fn our_rx(kind: ModemKind, cfg: &RxConfig) -> Result<Box<dyn Receiver>, BuildError> {
    modem::new_receiver(kind, cfg)
        .map(|r| r as Box<dyn Receiver>)
        .map_err(|e| BuildError::Config(format!("our {} receiver: {e}", label(kind))))
}

/// spandsp's counterpart of one of our modem kinds.
pub fn peer_modem(kind: ModemKind) -> PeerModem {
    match kind {
        ModemKind::V21Ch1 => PeerModem::V21Ch1,
        ModemKind::V21Ch2 => PeerModem::V21Ch2,
        ModemKind::V27ter => PeerModem::V27ter,
        ModemKind::V29 => PeerModem::V29,
        ModemKind::V17 => PeerModem::V17,
    }
}

fn load_spandsp() -> Result<Arc<Spandsp>, BuildError> {
    Spandsp::load().map_err(|e| BuildError::Unavailable(e.to_string()))
}

fn peer_error(e: spandsp_peer::Error) -> BuildError {
    match e {
        spandsp_peer::Error::UnsupportedRate { .. } => BuildError::Config(e.to_string()),
        other => BuildError::Unavailable(other.to_string()),
    }
}

/// spandsp's modulator behind our [`Transmitter`] trait.
pub struct SpandspTransmitter {
    tx: ModemTx,
}

impl Transmitter for SpandspTransmitter {
    fn fill(&mut self, out: &mut [i16], src: &mut dyn BitSource) -> usize {
        self.tx.fill(out, &mut || src.next_bit())
    }

    fn is_finished(&self) -> bool {
        self.tx.is_finished()
    }
}

/// spandsp's demodulator behind our [`Receiver`] trait.
///
/// Like a fax application, it restarts spandsp's receiver after a training failure (at the
/// end of the block in which it was reported): spandsp's receivers otherwise stay idle until
/// the carrier drops, so noise before the signal, which can look like a carrier and fail
/// training, would keep them from ever seeing the real training.
///
/// spandsp reports no level with carrier detection and no SNR with training success, so
/// those event fields are NaN; [`Receiver::quality`] has spandsp's estimates (NaN where
/// spandsp has none, e.g. carrier offset for V.21).
pub struct SpandspReceiver {
    rx: ModemRx,
    rate: u32,
    short_train: bool,
}

impl Receiver for SpandspReceiver {
    fn process(&mut self, samples: &[i16], sink: &mut dyn RxSink) {
        let rate = self.rate;
        let mut failed = false;
        self.rx.process(samples, &mut |ev| match ev {
            PeerRxEvent::Bit(b) => sink.bit(b),
            PeerRxEvent::CarrierUp => sink.event(RxEvent::CarrierUp {
                level_dbm0: f32::NAN,
            }),
            PeerRxEvent::CarrierDown => sink.event(RxEvent::CarrierDown),
            PeerRxEvent::TrainingSucceeded => sink.event(RxEvent::TrainingSucceeded {
                rate,
                snr_db: f32::NAN,
            }),
            PeerRxEvent::TrainingFailed => {
                failed = true;
                sink.event(RxEvent::TrainingFailed);
            }
            _ => {}
        });
        if failed {
            // The rate and mode were accepted before, so restarting cannot fail.
            let _ = self.rx.restart(self.rate, self.short_train);
        }
    }

    fn quality(&self) -> Quality {
        let offset = match (self.rx.carrier_frequency_hz(), self.rx.nominal_carrier_hz()) {
            (Some(f), Some(nominal)) => f - nominal,
            _ => f32::NAN,
        };
        Quality {
            level_dbm0: self.rx.signal_power_dbm0(),
            snr_db: self.rx.snr_db().unwrap_or(f32::NAN),
            carrier_offset_hz: offset,
            timing_offset_ppm: f32::NAN,
            trained: self.rx.is_trained(),
        }
    }

    fn restart(&mut self, cfg: &RxConfig) -> Result<(), modem::Error> {
        self.rx
            .restart(cfg.rate, cfg.short_train)
            .map_err(|e| modem::Error::InvalidConfig(e.to_string()))?;
        self.rate = cfg.rate;
        self.short_train = cfg.short_train;
        Ok(())
    }
}

/// Builds spandsp's transmitter.
pub fn spandsp_tx(kind: ModemKind, cfg: &TxConfig) -> Result<Box<dyn Transmitter>, BuildError> {
    let sp = load_spandsp()?;
    let tx = ModemTx::new(
        &sp,
        peer_modem(kind),
        cfg.rate,
        cfg.short_train,
        cfg.level_dbm0,
    )
    .map_err(peer_error)?;
    Ok(Box::new(SpandspTransmitter { tx }))
}

/// Builds spandsp's receiver.
pub fn spandsp_rx(kind: ModemKind, cfg: &RxConfig) -> Result<Box<dyn Receiver>, BuildError> {
    let sp = load_spandsp()?;
    let mut rx = ModemRx::new(&sp, peer_modem(kind), cfg.rate).map_err(peer_error)?;
    if cfg.short_train {
        rx.restart(cfg.rate, true).map_err(peer_error)?;
    }
    Ok(Box::new(SpandspReceiver {
        rx,
        rate: cfg.rate,
        short_train: cfg.short_train,
    }))
}

/// Builds a transmitter of either implementation.
pub fn make_tx(
    imp: Implementation,
    kind: ModemKind,
    cfg: &TxConfig,
) -> Result<Box<dyn Transmitter>, BuildError> {
    if !(-60.0..=3.0).contains(&cfg.level_dbm0) {
        return Err(BuildError::Config(format!(
            "transmit level {} dBm0 is outside -60..3 dBm0",
            cfg.level_dbm0
        )));
    }
    match imp {
        Implementation::Ours => our_tx(kind, cfg),
        Implementation::Spandsp => spandsp_tx(kind, cfg),
    }
}

/// Builds a receiver of either implementation.
pub fn make_rx(
    imp: Implementation,
    kind: ModemKind,
    cfg: &RxConfig,
) -> Result<Box<dyn Receiver>, BuildError> {
    match imp {
        Implementation::Ours => our_rx(kind, cfg),
        Implementation::Spandsp => spandsp_rx(kind, cfg),
    }
}

/// Whether the modem has a training sequence (V.21 has none: it is "trained" once it
/// detects carrier).
pub fn has_training(kind: ModemKind) -> bool {
    !matches!(kind, ModemKind::V21Ch1 | ModemKind::V21Ch2)
}
