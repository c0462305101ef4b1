//! Fuzzes the UDPTL and IFP parsers and the recovering receiver: no input may panic, and
//! whatever parses must encode back to the same octets.
#![no_main]

use channel_models::t38::{Ifp, UdptlPacket, UdptlReceiver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = UdptlPacket::parse(data) {
        let again = p.to_bytes().expect("a parsed packet re-encodes");
        assert_eq!(UdptlPacket::parse(&again).as_ref(), Ok(&p));
    }
    for version in [0u8, 3] {
        if let Ok((ifp, used)) = Ifp::decode(data, version) {
            let again = ifp.to_bytes(version).expect("a parsed IFP re-encodes");
            assert_eq!(Ifp::decode(&again, version).map(|(i, _)| i), Ok(ifp));
            assert!(used <= data.len());
        }
    }
    // Split the input into packets at every 0xFF and feed them in order.
    let mut rx = UdptlReceiver::new(0);
    for chunk in data.split(|&b| b == 0xFF) {
        rx.receive(chunk);
    }
});
