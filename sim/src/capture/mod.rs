//! Capture writers: what crossed the network during a call, as a pcap file tshark and
//! Wireshark read.
//!
//! [`PcapWriter`] streams IPv4/UDP packets in Ethernet frames to a classic pcap file
//! (microsecond timestamps, little-endian), one packet at a time, so a long call never
//! sits in memory. Timestamps come from the virtual sample clock, offset by a fixed epoch
//! so that the same call always gives the same bytes.
//!
//! ```no_run
//! use sim::capture::{Endpoints, PcapWriter};
//! let mut w = PcapWriter::create(std::path::Path::new("call.pcap")).unwrap();
//! let ends = Endpoints::default();
//! w.write_udp(t30::SampleTime::from_ms(20), ends.caller, ends.answerer, &[0, 0, 1, 0x30]).unwrap();
//! w.finish().unwrap();
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::net::SocketAddrV4;
use std::path::Path;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket};
use pcap_file::{DataLink, Endianness, TsResolution};
use t30::SampleTime;

/// Where the two sides sit on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// The caller's address and port.
    pub caller: SocketAddrV4,
    /// The answerer's address and port.
    pub answerer: SocketAddrV4,
}

impl Default for Endpoints {
    /// 192.0.2.1:4000 (caller) and 192.0.2.2:5000 (answerer), from the documentation range.
    fn default() -> Self {
        Endpoints {
            caller: "192.0.2.1:4000".parse().expect("literal address"),
            answerer: "192.0.2.2:5000".parse().expect("literal address"),
        }
    }
}

/// Seconds since 1970 of call time zero in every capture (2026-01-01 00:00:00 UTC): fixed,
/// so the same call gives the same file.
pub const EPOCH_S: u64 = 1_767_225_600;

/// Errors writing a capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be created or written.
    #[error("{0}")]
    Io(String),
}

/// A pcap file being written.
pub struct PcapWriter {
    w: pcap_file::pcap::PcapWriter<BufWriter<File>>,
    buf: Vec<u8>,
    ident: u16,
    packets: u64,
}

fn mac(a: &SocketAddrV4) -> [u8; 6] {
    // Locally administered, derived from the IPv4 address so that each host keeps one.
    let o = a.ip().octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

impl PcapWriter {
    /// Creates (or truncates) `path` and writes the file header.
    pub fn create(path: &Path) -> Result<PcapWriter, CaptureError> {
        let f = File::create(path).map_err(|e| CaptureError::Io(e.to_string()))?;
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: 65535,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::MicroSecond,
            endianness: Endianness::Little,
        };
        let w = pcap_file::pcap::PcapWriter::with_header(BufWriter::new(f), header)
            .map_err(|e| CaptureError::Io(e.to_string()))?;
        Ok(PcapWriter {
            w,
            buf: Vec::with_capacity(1600),
            ident: 0,
            packets: 0,
        })
    }

    /// Writes one UDP datagram sent at call time `at` from `src` to `dst`.
    pub fn write_udp(
        &mut self,
        at: SampleTime,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> Result<(), CaptureError> {
        self.buf.clear();
        let mut ip = etherparse::Ipv4Header::new(
            0,
            64,
            etherparse::IpNumber::UDP,
            src.ip().octets(),
            dst.ip().octets(),
        )
        .map_err(|e| CaptureError::Io(e.to_string()))?;
        ip.identification = self.ident;
        ip.dont_fragment = true;
        self.ident = self.ident.wrapping_add(1);
        let builder = PacketBuilder::ethernet2(mac(&src), mac(&dst))
            .ip(etherparse::IpHeaders::Ipv4(ip, Default::default()))
            .udp(src.port(), dst.port());
        builder
            .write(&mut self.buf, payload)
            .map_err(|e| CaptureError::Io(e.to_string()))?;
        let ts = Duration::from_secs(EPOCH_S) + Duration::from_micros(at.0 * 125);
        let pkt = PcapPacket::new(ts, self.buf.len() as u32, &self.buf);
        self.w
            .write_packet(&pkt)
            .map_err(|e| CaptureError::Io(e.to_string()))?;
        self.packets += 1;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes the file.
    pub fn finish(self) -> Result<(), CaptureError> {
        use std::io::Write;
        let mut inner = self.w.into_writer();
        inner.flush().map_err(|e| CaptureError::Io(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_read_back_as_ipv4_udp_with_virtual_timestamps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pcap");
        let ends = Endpoints::default();
        let mut w = PcapWriter::create(&path).unwrap();
        w.write_udp(SampleTime(0), ends.caller, ends.answerer, &[1, 2, 3])
            .unwrap();
        w.write_udp(
            SampleTime(8000 * 3 + 4),
            ends.answerer,
            ends.caller,
            &[9; 40],
        )
        .unwrap();
        assert_eq!(w.packets(), 2);
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // Little-endian classic pcap, microseconds, Ethernet.
        assert_eq!(bytes[..4], [0xD4, 0xC3, 0xB2, 0xA1]);
        assert_eq!(bytes[20..24], [1, 0, 0, 0]);
        let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).unwrap();
        let mut seen = Vec::new();
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            let eth = etherparse::SlicedPacket::from_ethernet(&p.data).unwrap();
            let Some(etherparse::NetSlice::Ipv4(ip)) = eth.net else {
                panic!("not IPv4")
            };
            let h = ip.header();
            let Some(etherparse::TransportSlice::Udp(udp)) = eth.transport else {
                panic!("not UDP")
            };
            // The header checksum is right.
            assert_eq!(h.to_header().calc_header_checksum(), h.header_checksum());
            seen.push((
                p.timestamp,
                std::net::Ipv4Addr::from(h.source()),
                udp.destination_port(),
                udp.payload().to_vec(),
            ));
        }
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].0, Duration::from_secs(EPOCH_S));
        assert_eq!(seen[0].1, *ends.caller.ip());
        assert_eq!(seen[0].2, 5000);
        assert_eq!(seen[0].3, vec![1, 2, 3]);
        assert_eq!(
            seen[1].0,
            Duration::from_secs(EPOCH_S + 3) + Duration::from_micros(500)
        );
        assert_eq!(seen[1].2, 4000);
    }

    #[test]
    fn an_unwritable_path_is_an_error_not_a_panic() {
        let e = PcapWriter::create(Path::new("/nonexistent-dir/x.pcap"));
        assert!(e.is_err());
    }
}
