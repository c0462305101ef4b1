//! The RTP stream finder and G.711 decoder on arbitrary datagrams: each input is cut into
//! datagrams by a length octet; one more octet picks the source port (so several streams and
//! their reverse directions appear).
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use sim::analyze::pcap::UdpPacket;
use sim::analyze::rtp;

fuzz_target!(|data: &[u8]| {
    let mut packets = Vec::new();
    let mut at = 0;
    let mut time = 0.0;
    while at + 2 <= data.len() {
        let len = usize::from(data[at]);
        let port = u16::from(data[at + 1] & 3);
        at += 2;
        let end = (at + len).min(data.len());
        let a = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 4000 + port);
        let b = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 5000);
        let (src, dst) = if port & 2 == 0 { (a, b) } else { (b, a) };
        packets.push(UdpPacket {
            time,
            src,
            dst,
            payload: data[at..end].to_vec(),
        });
        let _ = rtp::parse(&data[at..end]);
        time += 0.02;
        at = end;
    }
    let streams = rtp::find_streams(&packets);
    for s in &streams {
        let _ = rtp::decode(s, 0.0);
    }
    if !streams.is_empty() {
        let _ = rtp::choose(&streams, None);
        let _ = rtp::choose(&streams, Some(usize::from(data[0])));
    }
});
