//! Frames of a script: building them from a [`FrameSpec`] (names, idents, a DCS derived from
//! the far end's DIS) and matching received frames against names and hex patterns.

use serde::{Deserialize, Serialize};
use t30::frame::dis::modem_name::Modem;
use t30::frame::{DisBits, Fcf, Frame, FrameKind, MinScanTime, encode_ident};

/// A modem name as scripts write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModemName {
    /// V.27ter (2400, 4800).
    V27ter,
    /// V.29 (7200, 9600).
    V29,
    /// V.17 (7200 … 14400).
    V17,
}

impl ModemName {
    /// The T.30 modem.
    pub fn modem(self) -> Modem {
        match self {
            ModemName::V27ter => Modem::V27ter,
            ModemName::V29 => Modem::V29,
            ModemName::V17 => Modem::V17,
        }
    }

    /// The usual top rate of the modem.
    pub fn default_rate(self) -> u32 {
        match self {
            ModemName::V27ter => 4800,
            ModemName::V29 => 9600,
            ModemName::V17 => 14400,
        }
    }
}

/// A page coding as scripts write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodingName {
    /// T.4 one-dimensional.
    Mh,
    /// T.4 two-dimensional.
    Mr,
    /// T.6.
    Mmr,
}

/// One frame to send: by name (built here) or as raw hex.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameSpec {
    /// Frame name as `t30::frame::Fcf` names it ("DIS", "DCS", "TSI", "MPS", …), or
    /// `"PPS-<cmd>"` / `"EOR-<cmd>"` with cmd one of NULL, MPS, EOP, EOM.
    #[serde(default)]
    pub name: Option<String>,
    /// Raw frame octets (address, control, FCF, FIF; no FCS), in the order they are sent,
    /// each octet least significant bit first on the line. Excludes `name`.
    #[serde(default)]
    pub hex: Option<String>,
    /// Send with a bad FCS.
    #[serde(default)]
    pub bad_fcs: bool,
    /// Identity text for CSI, TSI, CIG, PWD, SUB, SID, SEP, PSA.
    #[serde(default)]
    pub ident: Option<String>,
    /// Explicit information field (hex) instead of the one built from the other keys.
    #[serde(default)]
    pub fif: Option<String>,
    /// DCS/CTC: the modem (default V.27ter).
    #[serde(default)]
    pub modem: Option<ModemName>,
    /// DCS/CTC: the bit rate (default the modem's top rate).
    #[serde(default)]
    pub rate: Option<u32>,
    /// DIS/DTC/DCS: error correction mode (default off).
    #[serde(default)]
    pub ecm: Option<bool>,
    /// DCS: ECM frame size, 64 or 256 (default 256).
    #[serde(default)]
    pub frame_size: Option<u32>,
    /// DIS/DTC/DCS: fine resolution (default off).
    #[serde(default)]
    pub fine: Option<bool>,
    /// DCS: coding (default MH); DIS/DTC: the best coding offered.
    #[serde(default)]
    pub coding: Option<CodingName>,
    /// DIS/DTC: the modems offered (default V.27ter only).
    #[serde(default)]
    pub modems: Option<Vec<ModemName>>,
    /// DIS/DTC/DCS: bits (T.30 numbering) to set after the rest is built.
    #[serde(default)]
    pub set_bits: Vec<u32>,
    /// DIS/DTC/DCS: bits to clear after the rest is built.
    #[serde(default)]
    pub clear_bits: Vec<u32>,
    /// The X bit of the FCF (default: set once a DIS has been received, as T.30 says).
    #[serde(default)]
    pub x: Option<bool>,
    /// Whether this is the last frame of its burst (default: the last one listed is).
    #[serde(default)]
    pub last: Option<bool>,
    /// PPR: the frame numbers asked for again.
    #[serde(default)]
    pub frames: Vec<u32>,
    /// PPR: also ask for the last frame of the block the far end's last PPS announced.
    #[serde(default)]
    pub last_frame: bool,
    /// Send again, as an echo, the last frame of this name the far end sent ("EOP",
    /// "PPS", …). Excludes `name` and `hex`.
    #[serde(default)]
    pub echo: Option<String>,
    /// PPS: page counter (default: that of the last ECM page sent).
    #[serde(default)]
    pub page: Option<u8>,
    /// PPS: block counter (default: that of the last ECM block sent).
    #[serde(default)]
    pub block: Option<u8>,
    /// PPS: number of frames in the block (default: that of the last ECM block sent).
    #[serde(default)]
    pub count: Option<u32>,
}

/// What a frame builder needs to know of the call so far.
#[derive(Debug, Clone, Default)]
pub struct FrameContext {
    /// The far end's last DIS/DTC information field.
    pub far_dis: Option<DisBits>,
    /// Whether a DIS has been received (the X bit rule).
    pub x_bit: bool,
    /// The last ECM block sent: page counter, block counter, frames in the block.
    pub last_block: Option<(u8, u8, u32)>,
    /// Good frames the far end sent, latest last.
    pub far_frames: Vec<Vec<u8>>,
}

impl FrameContext {
    /// The far end's last good frame of type `fcf`.
    pub fn last_from_far(&self, fcf: Fcf) -> Option<&Vec<u8>> {
        self.far_frames
            .iter()
            .rev()
            .find(|b| name_matches(b, fcf, None))
    }
}

/// Parses hex octets ("ff 13 80", "ff1380", "FF:13:80").
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':' && *c != ',')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("hex '{s}' has an odd number of digits"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| format!("'{}' in '{s}' is not a hex octet", &digits[i..i + 2]))
        })
        .collect()
}

/// Splits "PPS-MPS" into (PPS, Some(post-message octet without X bit)); plain names give
/// (fcf, None).
pub fn parse_name(name: &str) -> Result<(Fcf, Option<u8>), String> {
    let upper = name.trim().to_ascii_uppercase();
    if let Some((head, tail)) = upper.split_once('-')
        && matches!(head, "PPS" | "EOR")
    {
        let fcf = Fcf::from_name(head).ok_or_else(|| format!("unknown frame name '{name}'"))?;
        let cmd = match tail {
            "NULL" => 0,
            "MPS" | "EOP" | "EOM" | "PRI-MPS" | "PRI-EOP" | "PRI-EOM" => Fcf::from_name(tail)
                .ok_or_else(|| format!("unknown frame name '{name}'"))?
                .octet(),
            _ => {
                return Err(format!(
                    "'{name}': after PPS-/EOR- comes NULL, MPS, EOP or EOM"
                ));
            }
        };
        return Ok((fcf, Some(cmd)));
    }
    let fcf = Fcf::from_name(&upper).ok_or_else(|| format!("unknown frame name '{name}'"))?;
    Ok((fcf, None))
}

fn apply_bits(d: &mut DisBits, spec: &FrameSpec) -> Result<(), String> {
    for &b in spec.set_bits.iter().chain(&spec.clear_bits) {
        if !(1..=128).contains(&b) {
            return Err(format!("bit {b} is outside 1..128"));
        }
    }
    for &b in &spec.set_bits {
        d.set_bit(b, true);
    }
    for &b in &spec.clear_bits {
        d.set_bit(b, false);
    }
    Ok(())
}

/// A DIS/DTC information field offering what `spec` says (by default: ready to receive,
/// V.27ter, A4, 20 ms scan time, MH, standard resolution).
pub fn build_dis(spec: &FrameSpec) -> Result<DisBits, String> {
    let mut d = DisBits::new();
    d.set_bit(10, true);
    let modems = spec.modems.clone().unwrap_or(vec![ModemName::V27ter]);
    d.set_modems(t30::frame::ModemSet {
        v27ter: modems.contains(&ModemName::V27ter),
        v29: modems.contains(&ModemName::V29),
        v17: modems.contains(&ModemName::V17),
    });
    if spec.fine == Some(true) {
        d.set_bit(15, true);
    }
    match spec.coding {
        Some(CodingName::Mr) => d.set_bit(16, true),
        Some(CodingName::Mmr) => {
            d.set_bit(16, true);
            d.set_bit(31, true);
        }
        _ => {}
    }
    if spec.ecm == Some(true) {
        d.set_bit(27, true);
    }
    apply_bits(&mut d, spec)?;
    Ok(d)
}

/// A DCS information field for the far end's DIS: the modem, rate, ECM, coding and
/// resolution `spec` chooses, receiver operation, A4, the far end's minimum scan time.
pub fn build_dcs(spec: &FrameSpec, far_dis: Option<&DisBits>) -> Result<DisBits, String> {
    let mut d = DisBits::new();
    d.set_bit(10, true);
    let modem = spec.modem.unwrap_or(ModemName::V27ter);
    let rate = spec.rate.unwrap_or(modem.default_rate());
    if !d.set_dcs_rate(modem.modem(), rate) {
        return Err(format!("{modem:?} has no rate {rate} in DCS"));
    }
    if spec.fine == Some(true) {
        d.set_bit(15, true);
    }
    match spec.coding {
        Some(CodingName::Mr) => d.set_bit(16, true),
        Some(CodingName::Mmr) => d.set_bit(31, true),
        _ => {}
    }
    if spec.ecm == Some(true) {
        d.set_bit(27, true);
        match spec.frame_size {
            Some(64) => d.set_bit(28, true),
            None | Some(256) => {}
            Some(n) => return Err(format!("frame_size {n}: ECM frames are 64 or 256 octets")),
        }
    }
    let scan = far_dis
        .and_then(|f| f.min_scan_time(FrameKind::Dis))
        .map_or(20, |s| s.ms);
    d.set_min_scan_time(MinScanTime {
        ms: scan,
        half_at_fine: false,
    });
    apply_bits(&mut d, spec)?;
    Ok(d)
}

/// Builds the octets (without FCS) of one frame; `last` is the default control bit.
pub fn build_frame(spec: &FrameSpec, ctx: &FrameContext, last: bool) -> Result<Vec<u8>, String> {
    let last = spec.last.unwrap_or(last);
    if let Some(e) = &spec.echo {
        if spec.name.is_some() || spec.hex.is_some() {
            return Err("a frame has one of 'name', 'hex' and 'echo'".into());
        }
        let (fcf, _) = parse_name(e)?;
        return Ok(ctx
            .last_from_far(fcf)
            .cloned()
            .unwrap_or_else(|| Frame::new(fcf, ctx.x_bit, Vec::new(), last).to_bytes()));
    }
    match (&spec.name, &spec.hex) {
        (Some(_), Some(_)) => Err("a frame has either 'name' or 'hex', not both".into()),
        (None, None) => Err("a frame needs 'name' or 'hex'".into()),
        (None, Some(h)) => {
            let b = parse_hex(h)?;
            if b.is_empty() {
                return Err("hex frame is empty".into());
            }
            Ok(b)
        }
        (Some(name), None) => {
            let (fcf, cmd) = parse_name(name)?;
            let x = spec.x.unwrap_or(ctx.x_bit);
            let fif = match &spec.fif {
                Some(h) => parse_hex(h)?,
                None => build_fif(fcf, cmd, spec, ctx, x)?,
            };
            Ok(Frame::new(fcf, x, fif, last).to_bytes())
        }
    }
}

fn build_fif(
    fcf: Fcf,
    cmd: Option<u8>,
    spec: &FrameSpec,
    ctx: &FrameContext,
    x: bool,
) -> Result<Vec<u8>, String> {
    let cmd_octet = |c: u8| if c == 0 { 0 } else { c | x as u8 };
    Ok(match fcf {
        Fcf::DIS | Fcf::DTC => build_dis(spec)?.to_fif(),
        Fcf::DCS => build_dcs(spec, ctx.far_dis.as_ref())?.to_fif(),
        Fcf::CSI | Fcf::TSI | Fcf::CIG | Fcf::PWD | Fcf::SUB | Fcf::SID | Fcf::SEP | Fcf::PSA => {
            encode_ident(spec.ident.as_deref().unwrap_or(""))
        }
        Fcf::CTC => {
            let modem = spec.modem.unwrap_or(ModemName::V27ter);
            let rate = spec.rate.unwrap_or(modem.default_rate());
            let mut d = DisBits::new();
            if !d.set_dcs_rate(modem.modem(), rate) {
                return Err(format!("{modem:?} has no rate {rate}"));
            }
            d.to_fif()[..2].to_vec()
        }
        Fcf::PPR => {
            let mut map = vec![0u8; 32];
            let last_of_block = ctx
                .last_from_far(Fcf::PPS)
                .and_then(|b| b.get(6).copied())
                .filter(|_| spec.last_frame)
                .map(u32::from);
            for &f in spec.frames.iter().chain(last_of_block.as_ref()) {
                if f > 255 {
                    return Err(format!("PPR frame number {f} is above 255"));
                }
                map[f as usize / 8] |= 1 << (f % 8);
            }
            map
        }
        Fcf::PPS => {
            let (p, b, n) = ctx.last_block.unwrap_or((0, 0, 1));
            let count = spec.count.unwrap_or(n);
            if !(1..=256).contains(&count) {
                return Err(format!("PPS count {count} is outside 1..256"));
            }
            vec![
                cmd_octet(cmd.unwrap_or(0)),
                spec.page.unwrap_or(p),
                spec.block.unwrap_or(b),
                (count - 1) as u8,
            ]
        }
        Fcf::EOR => vec![cmd_octet(cmd.unwrap_or(0))],
        _ => Vec::new(),
    })
}

/// One octet of a hex pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatOctet {
    /// value & mask must equal the octet & mask.
    Masked(u8, u8),
    /// The rest of the frame, whatever it is.
    Rest,
}

/// A hex pattern with wildcards: `ff 13 80` exact octets, `??` any octet, `a0/f0` value
/// under a mask, `*` (last) any number of further octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexPattern(Vec<PatOctet>);

impl HexPattern {
    /// Parses a pattern.
    pub fn parse(s: &str) -> Result<HexPattern, String> {
        let mut v = Vec::new();
        let toks: Vec<&str> = s.split_whitespace().collect();
        for (i, t) in toks.iter().enumerate() {
            let o = match *t {
                "*" if i + 1 == toks.len() => PatOctet::Rest,
                "*" => return Err(format!("pattern '{s}': '*' must come last")),
                "??" => PatOctet::Masked(0, 0),
                _ => {
                    let (val, mask) = match t.split_once('/') {
                        Some((a, m)) => (a, m),
                        None => (*t, "ff"),
                    };
                    let p = |x: &str| {
                        u8::from_str_radix(x, 16)
                            .map_err(|_| format!("pattern '{s}': '{t}' is not hex, ?? or *"))
                    };
                    let (val, mask) = (p(val)?, p(mask)?);
                    PatOctet::Masked(val & mask, mask)
                }
            };
            v.push(o);
        }
        if v.is_empty() {
            return Err("empty hex pattern".into());
        }
        Ok(HexPattern(v))
    }

    /// Whether `bytes` match.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let mut i = 0;
        for p in &self.0 {
            match p {
                PatOctet::Rest => return true,
                PatOctet::Masked(v, m) => {
                    let Some(&b) = bytes.get(i) else { return false };
                    if b & m != *v {
                        return false;
                    }
                    i += 1;
                }
            }
        }
        i == bytes.len()
    }
}

/// Whether the frame `bytes` is the frame named `name` ("DIS", "PPS-MPS", …), X bit
/// ignored.
pub fn name_matches(bytes: &[u8], fcf: Fcf, cmd: Option<u8>) -> bool {
    let Ok(f) = Frame::parse(bytes) else {
        return false;
    };
    if f.kind().map(|k| k.0) != Some(fcf) {
        return false;
    }
    match cmd {
        None => true,
        Some(c) => f.fif.first().is_some_and(|&o| o & 0xFE == c & 0xFE),
    }
}

/// Hex of octets, space separated.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A frame's name for messages ("DIS", "PPS-MPS", "garbage").
pub fn describe(bytes: &[u8]) -> String {
    match Frame::parse(bytes) {
        Ok(f) => match f.kind() {
            Some((k @ (Fcf::PPS | Fcf::EOR), _)) => {
                let cmd = f.fif.first().copied().unwrap_or(0) & 0xFE;
                let tail = if cmd == 0 {
                    "NULL".to_string()
                } else {
                    Fcf::from_octet(cmd).map_or(format!("{cmd:#04x}"), |c| c.0.name().into())
                };
                format!("{}-{tail}", k.name())
            }
            _ => f.name(),
        },
        Err(_) => "garbage".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_with_wildcards_and_masks() {
        let p = HexPattern::parse("ff 13 80 ?? 0a/0f *").unwrap();
        assert!(p.matches(&[0xFF, 0x13, 0x80, 0x00, 0x4A, 0x01]));
        assert!(p.matches(&[0xFF, 0x13, 0x80, 0x77, 0x0A]));
        assert!(!p.matches(&[0xFF, 0x13, 0x80, 0x77, 0x0B]));
        assert!(!p.matches(&[0xFF, 0x13, 0x80]));
        let exact = HexPattern::parse("ff 13 fa").unwrap();
        assert!(exact.matches(&[0xFF, 0x13, 0xFA]));
        assert!(!exact.matches(&[0xFF, 0x13, 0xFA, 0x00]));
        assert!(HexPattern::parse("ff * 13").is_err());
        assert!(HexPattern::parse("zz").is_err());
    }

    #[test]
    fn basic_dis_and_derived_dcs() {
        let dis = build_dis(&FrameSpec::default()).unwrap();
        assert_eq!(dis.to_fif(), vec![0x00, 0x0A, 0x00]);
        let dcs = build_dcs(&FrameSpec::default(), Some(&dis)).unwrap();
        // V.27ter 4800, receiver operation, A4, 20 ms: TSB-85's "00 50 00" in line order.
        assert_eq!(dcs.to_fif(), vec![0x00, 0x0A, 0x00]);
        assert_eq!(dcs.dcs_rate(), Some((Modem::V27ter, 4800)));
        let spec = FrameSpec {
            modem: Some(ModemName::V17),
            rate: Some(12000),
            ecm: Some(true),
            frame_size: Some(64),
            ..Default::default()
        };
        let dcs = build_dcs(&spec, Some(&dis)).unwrap();
        assert_eq!(dcs.dcs_rate(), Some((Modem::V17, 12000)));
        assert!(dcs.bit(27) && dcs.bit(28));
    }

    #[test]
    fn named_frames() {
        let ctx = FrameContext {
            x_bit: true,
            last_block: Some((2, 1, 100)),
            ..Default::default()
        };
        let spec = |n: &str| FrameSpec {
            name: Some(n.into()),
            ..Default::default()
        };
        assert_eq!(
            build_frame(&spec("MPS"), &ctx, true).unwrap(),
            vec![0xFF, 0x13, 0x4F]
        );
        assert_eq!(
            build_frame(&spec("PPS-EOP"), &ctx, true).unwrap(),
            vec![0xFF, 0x13, 0xBF, 0x2F, 2, 1, 99]
        );
        let f = build_frame(&spec("PPS-NULL"), &ctx, true).unwrap();
        assert!(name_matches(&f, Fcf::PPS, Some(0)));
        assert_eq!(describe(&f), "PPS-NULL");
        let mut tsi = spec("TSI");
        tsi.ident = Some("tester".into());
        let f = build_frame(&tsi, &ctx, false).unwrap();
        assert_eq!(&f[..3], &[0xFF, 0x03, 0x43]);
        assert_eq!(t30::frame::decode_ident(&f[3..]), "tester");
        let mut ppr = spec("PPR");
        ppr.frames = vec![0, 9];
        let f = build_frame(&ppr, &ctx, true).unwrap();
        assert_eq!(f.len(), 3 + 32);
        assert_eq!((f[3], f[4]), (0x01, 0x02));
        assert!(build_frame(&spec("NOPE"), &ctx, true).is_err());
        assert!(parse_name("PPS-XYZ").is_err());
    }
}
