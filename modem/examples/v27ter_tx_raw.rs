//! Writes a V.27ter transmission of pseudo-random data as raw 16-bit little-endian samples at
//! 8000 Hz to standard output, for inspection with other tools.
//!
//! Usage: `v27ter_tx_raw <rate> <bits> [short]`

use modem::v27ter::V27terTx;
use modem::{Transmitter, TxConfig};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rate: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4800);
    let bits: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let short = args.get(3).is_some_and(|s| s == "short");
    let mut tx = V27terTx::new(&TxConfig {
        rate,
        short_train: short,
        ..Default::default()
    })
    .expect("valid rate");
    // The same generator as the probe in the interop tests: x' = 1103515245x + 12345, bit 16.
    let mut x = 12_345u32;
    let mut left = bits;
    let mut src = move || {
        if left == 0 {
            return None;
        }
        left -= 1;
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        Some((x >> 16) & 1 == 1)
    };
    let mut out = std::io::stdout().lock();
    let mut block = [0i16; 160];
    while !tx.is_finished() {
        let n = tx.fill(&mut block, &mut src);
        for s in &block[..n] {
            out.write_all(&s.to_le_bytes()).expect("stdout");
        }
    }
}
