//! The C interface of libspandsp 0.0.6 that this crate uses, as a table of function pointers
//! resolved once at load time. Declarations follow the installed headers
//! (`/usr/include/spandsp/{v17tx,v17rx,v29tx,v29rx,v27ter_tx,v27ter_rx,fsk,async}.h`).

use std::ffi::{c_char, c_int, c_void};

/// `get_bit_func_t`: returns a bit (0/1) or a `SIG_STATUS_*` code.
pub(crate) type GetBitFn = unsafe extern "C" fn(user_data: *mut c_void) -> c_int;
/// `put_bit_func_t`: receives a bit (0/1) or a `SIG_STATUS_*` code.
pub(crate) type PutBitFn = unsafe extern "C" fn(user_data: *mut c_void, bit: c_int);
/// `modem_status_func_t`.
pub(crate) type StatusFn = unsafe extern "C" fn(user_data: *mut c_void, status: c_int);
/// `qam_report_handler_t`.
pub(crate) type QamReportFn = unsafe extern "C" fn(
    user_data: *mut c_void,
    constel: *const ComplexF,
    target: *const ComplexF,
    symbol: c_int,
);

/// `t30_phase_e_handler_t`.
pub(crate) type PhaseEFn =
    unsafe extern "C" fn(t30: State, user_data: *mut c_void, completion: c_int);
/// `t30_real_time_frame_handler_t`.
pub(crate) type FrameFn = unsafe extern "C" fn(
    t30: State,
    user_data: *mut c_void,
    incoming: c_int,
    msg: *const u8,
    len: c_int,
);

/// `t38_tx_packet_handler_t` (t38_core.h).
pub(crate) type T38TxFn = unsafe extern "C" fn(
    s: State,
    user_data: *mut c_void,
    buf: *const u8,
    len: c_int,
    count: c_int,
) -> c_int;

/// `t30_stats_t` (t30.h): fifteen `int`s; padded in case a build adds fields.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct T30Stats {
    pub bit_rate: c_int,
    pub error_correcting_mode: c_int,
    pub pages_tx: c_int,
    pub pages_rx: c_int,
    pub pages_in_file: c_int,
    pub x_resolution: c_int,
    pub y_resolution: c_int,
    pub width: c_int,
    pub length: c_int,
    pub image_size: c_int,
    pub encoding: c_int,
    pub bad_rows: c_int,
    pub longest_bad_row_run: c_int,
    pub error_correcting_mode_retries: c_int,
    pub current_status: c_int,
    pub _spare: [c_int; 17],
}

/// `complexf_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ComplexF {
    pub re: f32,
    pub im: f32,
}

/// `fsk_spec_t`.
#[repr(C)]
pub(crate) struct FskSpec {
    pub name: *const c_char,
    pub freq_zero: c_int,
    pub freq_one: c_int,
    pub tx_level: c_int,
    pub min_level: c_int,
    pub baud_rate: c_int,
}

/// Opaque modem state pointer (`v17_tx_state_t *` and friends).
pub(crate) type State = *mut c_void;

// Signal status codes from async.h.
pub(crate) const SIG_STATUS_CARRIER_DOWN: c_int = -1;
pub(crate) const SIG_STATUS_CARRIER_UP: c_int = -2;
pub(crate) const SIG_STATUS_TRAINING_IN_PROGRESS: c_int = -3;
pub(crate) const SIG_STATUS_TRAINING_SUCCEEDED: c_int = -4;
pub(crate) const SIG_STATUS_TRAINING_FAILED: c_int = -5;
pub(crate) const SIG_STATUS_FRAMING_OK: c_int = -6;
pub(crate) const SIG_STATUS_END_OF_DATA: c_int = -7;
pub(crate) const SIG_STATUS_SHUTDOWN_COMPLETE: c_int = -10;

// fsk.h preset indices and framing modes.
pub(crate) const FSK_V21CH1: usize = 0;
pub(crate) const FSK_V21CH2: usize = 1;
pub(crate) const FSK_FRAME_MODE_SYNC: c_int = 1;

macro_rules! api {
    ($( $name:ident : fn($($arg:ty),*) $(-> $ret:ty)? ; )*) => {
        /// Every spandsp function this crate calls.
        pub(crate) struct Api {
            $( pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?, )*
        }

        impl Api {
            /// Resolves every symbol; fails naming the first one missing.
            ///
            /// # Safety
            /// `lib` must be libspandsp 0.0.6 (the declared signatures must match).
            pub(crate) unsafe fn load(lib: &libloading::Library) -> Result<Api, (&'static str, libloading::Error)> {
                Ok(Api {
                    $( $name: unsafe {
                        *lib.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                            concat!(stringify!($name), "\0").as_bytes(),
                        )
                        .map_err(|e| (stringify!($name), e))?
                    }, )*
                })
            }
        }
    };
}

api! {
    v17_tx_init: fn(State, c_int, c_int, Option<GetBitFn>, *mut c_void) -> State;
    v17_tx_restart: fn(State, c_int, c_int, c_int) -> c_int;
    v17_tx_power: fn(State, f32);
    v17_tx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    v17_tx: fn(State, *mut i16, c_int) -> c_int;
    v17_tx_free: fn(State) -> c_int;
    v17_rx_init: fn(State, c_int, Option<PutBitFn>, *mut c_void) -> State;
    v17_rx_restart: fn(State, c_int, c_int) -> c_int;
    v17_rx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    v17_rx_set_qam_report_handler: fn(State, Option<QamReportFn>, *mut c_void);
    v17_rx: fn(State, *const i16, c_int) -> c_int;
    v17_rx_free: fn(State) -> c_int;
    v17_rx_carrier_frequency: fn(State) -> f32;
    v17_rx_symbol_timing_correction: fn(State) -> f32;
    v17_rx_signal_power: fn(State) -> f32;
    v17_rx_signal_cutoff: fn(State, f32);

    v29_tx_init: fn(State, c_int, c_int, Option<GetBitFn>, *mut c_void) -> State;
    v29_tx_restart: fn(State, c_int, c_int) -> c_int;
    v29_tx_power: fn(State, f32);
    v29_tx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    v29_tx: fn(State, *mut i16, c_int) -> c_int;
    v29_tx_free: fn(State) -> c_int;
    v29_rx_init: fn(State, c_int, Option<PutBitFn>, *mut c_void) -> State;
    v29_rx_restart: fn(State, c_int, c_int) -> c_int;
    v29_rx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    v29_rx_set_qam_report_handler: fn(State, Option<QamReportFn>, *mut c_void);
    v29_rx: fn(State, *const i16, c_int) -> c_int;
    v29_rx_free: fn(State) -> c_int;
    v29_rx_carrier_frequency: fn(State) -> f32;
    v29_rx_symbol_timing_correction: fn(State) -> f32;
    v29_rx_signal_power: fn(State) -> f32;
    v29_rx_signal_cutoff: fn(State, f32);

    v27ter_tx_init: fn(State, c_int, c_int, Option<GetBitFn>, *mut c_void) -> State;
    v27ter_tx_restart: fn(State, c_int, c_int) -> c_int;
    v27ter_tx_power: fn(State, f32);
    v27ter_tx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    v27ter_tx: fn(State, *mut i16, c_int) -> c_int;
    v27ter_tx_free: fn(State) -> c_int;
    v27ter_rx_init: fn(State, c_int, Option<PutBitFn>, *mut c_void) -> State;
    v27ter_rx_restart: fn(State, c_int, c_int) -> c_int;
    v27ter_rx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    v27ter_rx_set_qam_report_handler: fn(State, Option<QamReportFn>, *mut c_void);
    v27ter_rx: fn(State, *const i16, c_int) -> c_int;
    v27ter_rx_free: fn(State) -> c_int;
    v27ter_rx_carrier_frequency: fn(State) -> f32;
    v27ter_rx_symbol_timing_correction: fn(State) -> f32;
    v27ter_rx_signal_power: fn(State) -> f32;
    v27ter_rx_signal_cutoff: fn(State, f32);

    fsk_tx_init: fn(State, *const FskSpec, Option<GetBitFn>, *mut c_void) -> State;
    fsk_tx_restart: fn(State, *const FskSpec) -> c_int;
    fsk_tx_power: fn(State, f32);
    fsk_tx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    fsk_tx: fn(State, *mut i16, c_int) -> c_int;
    fsk_tx_free: fn(State) -> c_int;
    fsk_rx_init: fn(State, *const FskSpec, c_int, Option<PutBitFn>, *mut c_void) -> State;
    fsk_rx_restart: fn(State, *const FskSpec, c_int) -> c_int;
    fsk_rx_set_modem_status_handler: fn(State, Option<StatusFn>, *mut c_void);
    fsk_rx: fn(State, *const i16, c_int) -> c_int;
    fsk_rx_free: fn(State) -> c_int;
    fsk_rx_signal_power: fn(State) -> f32;
    fsk_rx_signal_cutoff: fn(State, f32);

    fax_init: fn(State, c_int) -> State;
    fax_free: fn(State) -> c_int;
    fax_rx: fn(State, *mut i16, c_int) -> c_int;
    fax_tx: fn(State, *mut i16, c_int) -> c_int;
    fax_set_transmit_on_idle: fn(State, c_int);
    fax_get_t30_state: fn(State) -> State;
    t30_set_tx_ident: fn(State, *const c_char) -> c_int;
    t30_get_tx_ident: fn(State) -> *const c_char;
    t30_get_rx_ident: fn(State) -> *const c_char;
    t30_set_supported_modems: fn(State, c_int) -> c_int;
    t30_set_ecm_capability: fn(State, c_int) -> c_int;
    t30_set_supported_compressions: fn(State, c_int) -> c_int;
    t30_set_tx_file: fn(State, *const c_char, c_int, c_int);
    t30_set_rx_file: fn(State, *const c_char, c_int);
    t30_set_phase_e_handler: fn(State, Option<PhaseEFn>, *mut c_void);
    t30_set_real_time_frame_handler: fn(State, Option<FrameFn>, *mut c_void);
    t30_get_transfer_statistics: fn(State, *mut T30Stats);
    t30_completion_code_to_str: fn(c_int) -> *const c_char;
    t30_terminate: fn(State);

    t38_terminal_init: fn(State, c_int, Option<T38TxFn>, *mut c_void) -> State;
    t38_terminal_free: fn(State) -> c_int;
    t38_terminal_get_t30_state: fn(State) -> State;
    t38_terminal_get_t38_core_state: fn(State) -> State;
    t38_terminal_send_timeout: fn(State, c_int) -> c_int;
    t38_core_rx_ifp_packet: fn(State, *const u8, c_int, u16) -> c_int;
    t38_set_t38_version: fn(State, c_int);
}
