//! pcap and pcapng to UDP datagrams: Ethernet (with VLAN tags), Linux cooked capture,
//! raw IP and BSD loopback link types; IPv4 and IPv6.

use std::net::IpAddr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::PcapNgReader;
use pcap_file::pcapng::blocks::Block;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;

/// One UDP datagram of the capture.
#[derive(Debug, Clone, PartialEq)]
pub struct UdpPacket {
    /// Capture time, seconds since the epoch.
    pub time: f64,
    /// Source address and port.
    pub src: (IpAddr, u16),
    /// Destination address and port.
    pub dst: (IpAddr, u16),
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// Most packets read from one file (a fax call is a few tens of thousands).
const MAX_PACKETS: usize = 2_000_000;

/// Reads every UDP datagram of a pcap or pcapng file held in memory, in capture order,
/// and whether the file broke off. Packets of other protocols are skipped; a file cut short
/// ends the list where it breaks (as Wireshark reads it), but a file with no readable
/// header is an error.
pub fn read_udp(bytes: &[u8]) -> Result<(Vec<UdpPacket>, bool), String> {
    let mut out = Vec::new();
    let mut broken = false;
    if bytes.len() >= 4 && bytes[0..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut r =
            PcapNgReader::new(bytes).map_err(|e| format!("not a readable pcapng file: {e}"))?;
        // Per interface: link type and timestamp units per second.
        let mut ifaces: Vec<(DataLink, f64)> = Vec::new();
        while let Some(block) = r.next_block() {
            let Ok(block) = block else {
                broken = true;
                break;
            };
            match block {
                Block::InterfaceDescription(i) => {
                    let mut per_sec = 1e6;
                    for o in &i.options {
                        if let InterfaceDescriptionOption::IfTsResol(v) = o {
                            let exp = u32::from(v & 0x7f).min(18);
                            per_sec = if v & 0x80 != 0 {
                                2f64.powi(exp as i32)
                            } else {
                                10f64.powi(exp as i32)
                            };
                        }
                    }
                    ifaces.push((i.linktype, per_sec));
                }
                Block::SectionHeader(_) => ifaces.clear(),
                Block::EnhancedPacket(p) => {
                    let Some(&(link, per_sec)) = ifaces.get(p.interface_id as usize) else {
                        continue;
                    };
                    // The reader gives the raw count of units as nanoseconds.
                    let units = p.timestamp.as_nanos() as f64;
                    if let Some(u) = udp_of(link, &p.data, units / per_sec) {
                        out.push(u);
                    }
                }
                Block::SimplePacket(p) => {
                    if let Some(&(link, _)) = ifaces.first()
                        && let Some(u) = udp_of(link, &p.data, 0.0)
                    {
                        out.push(u);
                    }
                }
                _ => {}
            }
            if out.len() >= MAX_PACKETS {
                break;
            }
        }
    } else {
        let mut r = PcapReader::new(bytes).map_err(|e| format!("not a readable pcap file: {e}"))?;
        let link = r.header().datalink;
        while let Some(p) = r.next_packet() {
            let Ok(p) = p else {
                broken = true;
                break;
            };
            if let Some(u) = udp_of(link, &p.data, p.timestamp.as_secs_f64()) {
                out.push(u);
            }
            if out.len() >= MAX_PACKETS {
                break;
            }
        }
    }
    Ok((out, broken))
}

fn udp_of(link: DataLink, data: &[u8], time: f64) -> Option<UdpPacket> {
    let sliced = match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data).ok()?,
        DataLink::LINUX_SLL => SlicedPacket::from_linux_sll(data).ok()?,
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data).ok()?,
        // BSD loopback: a 4-octet address family, then IP.
        DataLink::NULL | DataLink::LOOP => SlicedPacket::from_ip(data.get(4..)?).ok()?,
        // Linux cooked v2: a 20-octet header whose first two octets are the protocol.
        DataLink::LINUX_SLL2 => SlicedPacket::from_ip(data.get(20..)?).ok()?,
        _ => return None,
    };
    let (src_ip, dst_ip) = match sliced.net.as_ref()? {
        NetSlice::Ipv4(v4) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        NetSlice::Ipv6(v6) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        _ => return None,
    };
    let Some(TransportSlice::Udp(udp)) = sliced.transport.as_ref() else {
        return None;
    };
    if !time.is_finite() {
        return None;
    }
    Some(UdpPacket {
        time,
        src: (src_ip, udp.source_port()),
        dst: (dst_ip, udp.destination_port()),
        payload: udp.payload().to_vec(),
    })
}

/// "address:port" for reports.
pub fn endpoint(e: &(IpAddr, u16)) -> String {
    match e.0 {
        IpAddr::V4(a) => format!("{a}:{}", e.1),
        IpAddr::V6(a) => format!("[{a}]:{}", e.1),
    }
}

/// T.38 ports announced in SDP bodies of SIP messages in the capture (`m=image PORT udptl
/// t38`), in order of appearance, without repeats.
pub fn sdp_t38_ports(packets: &[UdpPacket]) -> Vec<u16> {
    let mut ports = Vec::new();
    for p in packets {
        let body = &p.payload;
        let is_sip = body.starts_with(b"SIP/2.0 ") || body.starts_with(b"INVITE ");
        if !is_sip {
            continue;
        }
        let text = String::from_utf8_lossy(body);
        for line in text.lines() {
            let mut it = line.split_whitespace();
            if it.next() != Some("m=image") {
                continue;
            }
            let port = it.next().and_then(|x| x.parse::<u16>().ok());
            let proto = it.next().unwrap_or("").to_ascii_lowercase();
            if let Some(port) = port
                && port != 0
                && proto.contains("udptl")
                && !ports.contains(&port)
            {
                ports.push(port);
            }
        }
    }
    ports
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn udp(payload: &[u8]) -> UdpPacket {
        let a = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 5060);
        UdpPacket {
            time: 0.0,
            src: a,
            dst: a,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn t38_ports_from_sdp() {
        let invite = b"INVITE sip:fax@example.com SIP/2.0\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=image 6004 udptl t38\r\na=T38FaxVersion:0\r\n";
        let ok = b"SIP/2.0 200 OK\r\n\r\nv=0\r\nm=audio 4000 RTP/AVP 8\r\nm=image 7008 UDPTL T38\r\nm=image 0 udptl t38\r\n";
        let ports = sdp_t38_ports(&[udp(invite), udp(b"garbage m=image 9 udptl"), udp(ok)]);
        assert_eq!(ports, vec![6004, 7008]);
    }
}
