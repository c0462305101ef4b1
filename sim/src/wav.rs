//! Reading any WAV file a fax engineer is likely to hand us, and writing faxsim's own.
//!
//! The reader parses the RIFF structure itself (hound cannot read G.711 WAVs): integer PCM of
//! 8 (unsigned), 16, 24 and 32 bits, IEEE float of 32 and 64 bits, A-law (format tag 6) and
//! µ-law (tag 7), each plain or wrapped in `WAVE_FORMAT_EXTENSIBLE`, any channel count. Every
//! problem is a [`WavError`] whose message is one line. [`WavAudio::to_8k`] picks a channel and
//! resamples to 8000 Hz for the modems. Writing (8 kHz mono 16-bit) goes through hound.

use std::fmt;
use std::path::Path;

use crate::resample;

/// The sample encoding of a WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavEncoding {
    /// Integer PCM of this many bits (8 is unsigned, the rest signed).
    Pcm(u16),
    /// IEEE float of this many bits.
    Float(u16),
    /// G.711 A-law, 8 bits.
    ALaw,
    /// G.711 µ-law, 8 bits.
    MuLaw,
}

impl fmt::Display for WavEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WavEncoding::Pcm(bits) => write!(f, "{bits}-bit PCM"),
            WavEncoding::Float(bits) => write!(f, "{bits}-bit float"),
            WavEncoding::ALaw => f.write_str("A-law"),
            WavEncoding::MuLaw => f.write_str("µ-law"),
        }
    }
}

/// A WAV reading problem; its `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavError(String);

impl fmt::Display for WavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WavError {}

fn err<T>(msg: impl Into<String>) -> Result<T, WavError> {
    Err(WavError(msg.into()))
}

/// A decoded WAV file: interleaved samples scaled to [-1, 1).
#[derive(Debug, Clone, PartialEq)]
pub struct WavAudio {
    /// Sample encoding in the file.
    pub encoding: WavEncoding,
    /// Channels per frame.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved samples, full scale ±1.0 (16-bit sample `s` is `s / 32768`).
    pub samples: Vec<f32>,
}

/// WAVE_FORMAT_* tags.
const TAG_PCM: u16 = 1;
const TAG_FLOAT: u16 = 3;
const TAG_ALAW: u16 = 6;
const TAG_MULAW: u16 = 7;
const TAG_EXTENSIBLE: u16 = 0xfffe;
/// Data chunk sizes that streaming writers leave when they never come back to fix the header.
const SIZE_UNKNOWN: [u32; 2] = [0, 0xffff_ffff];
/// Sample rates accepted (anything else is more likely a corrupt header than real audio).
const RATE_RANGE: std::ops::RangeInclusive<u32> = 1000..=768_000;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Expands a G.711 A-law code to a 16-bit linear sample (G.711 table 1a).
pub fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mantissa = i32::from(a & 0x0f);
    let segment = (a >> 4) & 0x07;
    // Decision-interval midpoints on the 13-bit scale, shifted to 16 bits.
    let magnitude = match segment {
        0 => (mantissa << 4) + 8,
        s => ((mantissa << 4) + 0x108) << (s - 1),
    };
    (if a & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

/// Expands a G.711 µ-law code to a 16-bit linear sample (G.711 table 2a).
pub fn mulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let mantissa = i32::from(u & 0x0f);
    let exponent = (u >> 4) & 0x07;
    // The biased magnitude (bias 0x84 = 132 on the 16-bit scale) doubles per segment.
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

impl WavAudio {
    /// Reads and decodes a WAV file.
    pub fn read(path: &Path) -> Result<WavAudio, WavError> {
        let bytes = std::fs::read(path)
            .or_else(|e| err(format!("{}: cannot read: {e}", path.display())))?;
        WavAudio::parse(&bytes).or_else(|e| err(format!("{}: {e}", path.display())))
    }

    /// Decodes a WAV file held in memory.
    pub fn parse(bytes: &[u8]) -> Result<WavAudio, WavError> {
        if bytes.len() < 12 {
            return err(format!("not a WAV file: only {} bytes", bytes.len()));
        }
        if &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return err("not a WAV file: no RIFF/WAVE header");
        }
        let mut at = 12;
        let mut format: Option<(WavEncoding, u16, u32, usize)> = None;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let size = u32_at(bytes, at + 4);
            let body = at + 8;
            if id == b"fmt " {
                let size = size as usize;
                if body + size > bytes.len() {
                    return err("truncated fmt chunk");
                }
                format = Some(parse_fmt(&bytes[body..body + size])?);
            } else if id == b"data" {
                let Some((encoding, channels, sample_rate, width)) = format else {
                    return err("data chunk before any fmt chunk");
                };
                let present = bytes.len() - body;
                let len = if SIZE_UNKNOWN.contains(&size) {
                    present
                } else if size as usize > present {
                    return err(format!(
                        "truncated: data chunk declares {size} bytes but only {present} are present"
                    ));
                } else {
                    size as usize
                };
                let frame = width * usize::from(channels);
                let data = &bytes[body..body + len - len % frame];
                return Ok(WavAudio {
                    encoding,
                    channels,
                    sample_rate,
                    samples: decode(data, encoding, width),
                });
            }
            // Chunks are padded to an even length.
            at = body
                .checked_add(size as usize)
                .and_then(|end| end.checked_add(size as usize & 1))
                .unwrap_or(usize::MAX);
        }
        if format.is_none() {
            err("no fmt chunk")
        } else {
            err("no data chunk")
        }
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels)
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }

    /// One channel (0 = left), de-interleaved.
    pub fn channel(&self, channel: u16) -> Result<Vec<f32>, WavError> {
        if channel >= self.channels {
            return err(format!(
                "has {} channel{}, no channel {}",
                self.channels,
                if self.channels == 1 { "" } else { "s" },
                channel + 1
            ));
        }
        Ok(self
            .samples
            .iter()
            .skip(usize::from(channel))
            .step_by(usize::from(self.channels))
            .copied()
            .collect())
    }

    /// One channel at 8000 Hz as 16-bit samples, band-limited-resampled if the file has
    /// another rate.
    pub fn to_8k(&self, channel: u16) -> Result<Vec<i16>, WavError> {
        let x = self.channel(channel)?;
        let y = resample::resample(&x, self.sample_rate, 8000);
        Ok(y.iter()
            .map(|&v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect())
    }
}

fn parse_fmt(fmt: &[u8]) -> Result<(WavEncoding, u16, u32, usize), WavError> {
    if fmt.len() < 16 {
        return err(format!("fmt chunk too short ({} bytes)", fmt.len()));
    }
    let mut tag = u16_at(fmt, 0);
    let channels = u16_at(fmt, 2);
    let sample_rate = u32_at(fmt, 4);
    let block_align = u16_at(fmt, 12);
    let bits = u16_at(fmt, 14);
    if tag == TAG_EXTENSIBLE {
        if fmt.len() < 40 {
            return err("WAVE_FORMAT_EXTENSIBLE fmt chunk too short");
        }
        // The sub-format GUID starts with the plain format tag.
        tag = u16_at(fmt, 24);
    }
    if channels == 0 {
        return err("zero channels");
    }
    if !RATE_RANGE.contains(&sample_rate) {
        return err(format!("implausible sample rate {sample_rate} Hz"));
    }
    let encoding = match (tag, bits) {
        (TAG_PCM, 8 | 16 | 24 | 32) => WavEncoding::Pcm(bits),
        (TAG_FLOAT, 32 | 64) => WavEncoding::Float(bits),
        (TAG_ALAW, 8) => WavEncoding::ALaw,
        (TAG_MULAW, 8) => WavEncoding::MuLaw,
        (TAG_PCM | TAG_FLOAT | TAG_ALAW | TAG_MULAW, _) => {
            return err(format!(
                "unsupported {bits} bits per sample for format tag {tag}"
            ));
        }
        _ => return err(format!("unsupported format tag {tag:#06x}")),
    };
    let width = usize::from(bits / 8);
    if usize::from(block_align) != width * usize::from(channels) {
        return err(format!(
            "inconsistent header: block align {block_align} for {channels} channel(s) of {bits} bits"
        ));
    }
    Ok((encoding, channels, sample_rate, width))
}

fn decode(data: &[u8], encoding: WavEncoding, width: usize) -> Vec<f32> {
    let chunks = data.chunks_exact(width);
    match encoding {
        WavEncoding::Pcm(8) => chunks.map(|c| (f32::from(c[0]) - 128.0) / 128.0).collect(),
        WavEncoding::Pcm(16) => chunks
            .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
            .collect(),
        WavEncoding::Pcm(24) => chunks
            .map(|c| (i32::from_le_bytes([0, c[0], c[1], c[2]]) >> 8) as f32 / 8_388_608.0)
            .collect(),
        WavEncoding::Pcm(_) => chunks
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32 / 2_147_483_648.0)
            .collect(),
        WavEncoding::Float(32) => chunks
            .map(|c| sanitize(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        WavEncoding::Float(_) => chunks
            .map(|c| sanitize(f64::from_le_bytes(c.try_into().expect("8-byte chunk")) as f32))
            .collect(),
        WavEncoding::ALaw => chunks
            .map(|c| f32::from(alaw_to_linear(c[0])) / 32768.0)
            .collect(),
        WavEncoding::MuLaw => chunks
            .map(|c| f32::from(mulaw_to_linear(c[0])) / 32768.0)
            .collect(),
    }
}

/// NaN and infinities in a float file become silence and full scale.
fn sanitize(x: f32) -> f32 {
    if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) }
}

/// Writes 8000 Hz mono 16-bit samples as a WAV file.
pub fn write_8k_mono(path: &Path, samples: &[i16]) -> Result<(), WavError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = |e: hound::Error| WavError(format!("{}: cannot write: {e}", path.display()));
    let mut w = hound::WavWriter::create(path, spec).map_err(fail)?;
    {
        let mut w16 = w.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w16.write_sample(s);
        }
        w16.flush().map_err(fail)?;
    }
    w.finalize().map_err(fail)
}

/// Streams a stereo 8000 Hz 16-bit WAV to disk, block by block (the call tap).
pub struct StereoWavWriter {
    w: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
}

impl StereoWavWriter {
    /// Creates the file.
    pub fn create(path: &Path) -> Result<StereoWavWriter, WavError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let w = hound::WavWriter::create(path, spec)
            .map_err(|e| WavError(format!("cannot write: {e}")))?;
        Ok(StereoWavWriter { w })
    }

    /// Appends one block: `left[i]` and `right[i]` form frame `i`.
    pub fn write(&mut self, left: &[i16], right: &[i16]) -> Result<(), WavError> {
        for (&l, &r) in left.iter().zip(right) {
            for s in [l, r] {
                self.w
                    .write_sample(s)
                    .map_err(|e| WavError(format!("cannot write: {e}")))?;
            }
        }
        Ok(())
    }

    /// Completes the header.
    pub fn finish(self) -> Result<(), WavError> {
        self.w
            .finalize()
            .map_err(|e| WavError(format!("cannot write: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canonical 44-byte-header WAV.
    fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let block = channels * bits / 8;
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
        v.extend_from_slice(&block.to_le_bytes());
        v.extend_from_slice(&bits.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn alaw_known_codes() {
        // 0xD5 / 0x55: the smallest positive / negative steps.
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
        // Monotonic over the positive codes in G.711 order.
        let positive: Vec<i16> = (0x80u8..=0xff).map(|c| alaw_to_linear(c ^ 0x55)).collect();
        assert!(positive.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn mulaw_known_codes() {
        assert_eq!(mulaw_to_linear(0xff), 0);
        assert_eq!(mulaw_to_linear(0x7f), 0);
        assert_eq!(mulaw_to_linear(0x80), 32124);
        assert_eq!(mulaw_to_linear(0x00), -32124);
        assert_eq!(mulaw_to_linear(0xfe), 8);
        let positive: Vec<i16> = (0x80u8..=0xff).rev().map(mulaw_to_linear).collect();
        assert!(positive.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn decodes_every_pcm_width_to_the_same_scale() {
        let a = WavAudio::parse(&wav(1, 1, 8000, 8, &[0, 128, 255])).unwrap();
        assert_eq!(a.samples, [-1.0, 0.0, 127.0 / 128.0]);
        let a = WavAudio::parse(&wav(1, 1, 8000, 16, &[0x00, 0x80, 0x00, 0x40])).unwrap();
        assert_eq!(a.samples, [-1.0, 0.5]);
        let a = WavAudio::parse(&wav(1, 1, 8000, 24, &[0, 0, 0x80, 0, 0, 0x40])).unwrap();
        assert_eq!(a.samples, [-1.0, 0.5]);
        let a = WavAudio::parse(&wav(1, 1, 8000, 32, &[0, 0, 0, 0xc0])).unwrap();
        assert_eq!(a.samples, [-0.5]);
        let a = WavAudio::parse(&wav(3, 1, 8000, 32, &0.25f32.to_le_bytes())).unwrap();
        assert_eq!(a.samples, [0.25]);
        let a = WavAudio::parse(&wav(3, 1, 8000, 64, &(-0.75f64).to_le_bytes())).unwrap();
        assert_eq!(a.samples, [-0.75]);
        assert_eq!(a.encoding, WavEncoding::Float(64));
    }

    #[test]
    fn picks_channels_of_interleaved_stereo() {
        let data: Vec<u8> = [100i16, -100, 200, -200]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let a = WavAudio::parse(&wav(1, 2, 8000, 16, &data)).unwrap();
        assert_eq!(a.frames(), 2);
        assert_eq!(a.to_8k(0).unwrap(), [100, 200]);
        assert_eq!(a.to_8k(1).unwrap(), [-100, -200]);
        assert!(a.channel(2).is_err());
    }

    #[test]
    fn skips_unknown_chunks_and_reads_extensible() {
        let mut v = wav(1, 1, 8000, 16, &[1, 0]);
        // Insert an odd-sized LIST chunk (padded) before "data".
        let list = [b"LIST".as_slice(), &3u32.to_le_bytes(), b"abc\0"].concat();
        v.splice(36..36, list);
        assert_eq!(WavAudio::parse(&v).unwrap().samples, [1.0 / 32768.0]);

        let mut ext = Vec::new();
        ext.extend_from_slice(&TAG_EXTENSIBLE.to_le_bytes());
        ext.extend_from_slice(&1u16.to_le_bytes());
        ext.extend_from_slice(&8000u32.to_le_bytes());
        ext.extend_from_slice(&8000u32.to_le_bytes());
        ext.extend_from_slice(&1u16.to_le_bytes());
        ext.extend_from_slice(&8u16.to_le_bytes());
        ext.extend_from_slice(&22u16.to_le_bytes());
        ext.extend_from_slice(&8u16.to_le_bytes());
        ext.extend_from_slice(&4u32.to_le_bytes());
        ext.extend_from_slice(&TAG_MULAW.to_le_bytes());
        ext.extend_from_slice(&[0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]);
        let mut v = [b"RIFF".as_slice(), &0u32.to_le_bytes(), b"WAVEfmt "].concat();
        v.extend_from_slice(&(ext.len() as u32).to_le_bytes());
        v.extend_from_slice(&ext);
        v.extend_from_slice(b"data");
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&[0x80, 0xff]);
        let a = WavAudio::parse(&v).unwrap();
        assert_eq!(a.encoding, WavEncoding::MuLaw);
        assert_eq!(a.to_8k(0).unwrap(), [32124, 0]);
    }

    #[test]
    fn hostile_files_give_one_line_errors() {
        let good = wav(1, 1, 8000, 16, &[0; 100]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "only 0 bytes"),
            (b"RIFX\0\0\0\0WAVE".to_vec(), "no RIFF/WAVE"),
            (good[..30].to_vec(), "truncated fmt"),
            (good[..36].to_vec(), "no data chunk"),
            (
                good[..100].to_vec(),
                "truncated: data chunk declares 100 bytes",
            ),
            (wav(1, 0, 8000, 16, &[]), "zero channels"),
            (wav(1, 1, 0, 16, &[]), "implausible sample rate 0"),
            (wav(2, 1, 8000, 4, &[]), "unsupported format tag 0x0002"),
            (wav(1, 1, 8000, 12, &[]), "unsupported 12 bits"),
            (
                [
                    b"RIFF".as_slice(),
                    &[0; 4],
                    b"WAVEdata",
                    &[2, 0, 0, 0, 0, 0],
                ]
                .concat(),
                "data chunk before any fmt",
            ),
            (
                [b"RIFF".as_slice(), &[0; 4], b"WAVEJUNK", &[0xff; 4]].concat(),
                "no fmt chunk",
            ),
        ];
        for (bytes, want) in cases {
            let e = WavAudio::parse(&bytes).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(!e.contains('\n'));
        }
        let mut bad_align = wav(1, 2, 8000, 16, &[0; 8]);
        bad_align[32] = 3;
        assert!(WavAudio::parse(&bad_align).is_err());
    }

    #[test]
    fn mutated_files_never_panic() {
        let data: Vec<u8> = (0..64u8).collect();
        let seeds = [
            wav(1, 2, 44_100, 16, &data),
            wav(6, 1, 8000, 8, &data),
            wav(3, 1, 16_000, 32, &data),
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..3000 {
            let mut v = seeds[round % seeds.len()].clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % v.len() as u64) as usize;
                v[at] = next() as u8;
            }
            if next() % 3 == 0 {
                v.truncate((next() % v.len() as u64) as usize);
            }
            match WavAudio::parse(&v) {
                Ok(a) => assert_eq!(a.samples.len() % usize::from(a.channels), 0),
                Err(e) => assert!(!e.to_string().contains('\n')),
            }
        }
    }

    #[test]
    fn streaming_placeholder_size_reads_to_the_end() {
        let mut v = wav(1, 1, 8000, 16, &[1, 0, 2, 0, 3]);
        let at = v.len() - 9;
        v[at..at + 4].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
        // The odd trailing byte is not a whole frame.
        assert_eq!(WavAudio::parse(&v).unwrap().frames(), 2);
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let samples: Vec<i16> = (0..1000).map(|i| (i * 37 % 2000 - 1000) as i16).collect();
        write_8k_mono(&path, &samples).unwrap();
        let a = WavAudio::read(&path).unwrap();
        assert_eq!(
            (a.channels, a.sample_rate, a.encoding),
            (1, 8000, WavEncoding::Pcm(16))
        );
        assert_eq!(a.to_8k(0).unwrap(), samples);
    }
}
