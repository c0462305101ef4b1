//! The engine's timers: one deadline per kind, in a table indexed by an enum.

use crate::time::SampleTime;

/// Every timer the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// T0: caller waits for the far end.
    T0,
    /// T1: waiting to identify the far end.
    T1,
    /// T2: receiver waits for a command or a page.
    T2,
    /// T3: alerting the local operator after a procedure interrupt (or, at the station
    /// that sent PIP/PIN, waiting for the voice contact).
    T3,
    /// The local operator comes to the terminal.
    Operator,
    /// T4: transmitter waits for a response.
    T4,
    /// T5: ECM receiver not ready.
    T5,
    /// The gap before our next transmission.
    Gap,
    /// Receiver waits for TCF after DCS.
    Tcf,
    /// The far end's V.21 carrier has been on too long.
    Carrier,
    /// CED on for too long.
    Ced,
    /// Next CNG burst.
    Cng,
}

const ALL: [Timer; 12] = [
    Timer::T0,
    Timer::T1,
    Timer::T2,
    Timer::T3,
    Timer::Operator,
    Timer::T4,
    Timer::T5,
    Timer::Gap,
    Timer::Tcf,
    Timer::Carrier,
    Timer::Ced,
    Timer::Cng,
];

/// Deadlines indexed by [`Timer`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    at: [Option<SampleTime>; ALL.len()],
}

impl TimerTable {
    fn idx(t: Timer) -> usize {
        ALL.iter().position(|&x| x == t).unwrap_or(0)
    }

    pub(crate) fn set(&mut self, t: Timer, at: SampleTime) {
        self.at[Self::idx(t)] = Some(at);
    }

    pub(crate) fn clear(&mut self, t: Timer) {
        self.at[Self::idx(t)] = None;
    }

    pub(crate) fn get(&self, t: Timer) -> Option<SampleTime> {
        self.at[Self::idx(t)]
    }

    pub(crate) fn clear_all(&mut self) {
        self.at = [None; ALL.len()];
    }

    /// The earliest deadline.
    pub(crate) fn min(&self) -> Option<SampleTime> {
        self.at.iter().flatten().min().copied()
    }

    /// The earliest timer due at `now`, if any.
    pub(crate) fn due(&self, now: SampleTime) -> Option<Timer> {
        ALL.iter()
            .zip(self.at.iter())
            .filter_map(|(&t, at)| at.filter(|&a| a <= now).map(|a| (a, t)))
            .min_by_key(|&(a, _)| a)
            .map(|(_, t)| t)
    }
}
