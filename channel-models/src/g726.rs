//! G.726 ADPCM at 40, 32, 24 and 16 kbit/s, following the computational details of
//! ITU-T G.726 (§4), with a uniform (linear) PCM interface.
//!
//! The recommendation works on 14-bit uniform samples; this module takes 16-bit samples and
//! drops the two low bits on the way in (as a 14-bit converter would), and returns the
//! reconstructed signal scaled back to 16 bits. Every state variable has the word length
//! and wrap-around arithmetic of the recommendation's block descriptions, so the code words
//! are bit-exact with any implementation that follows the text.

use crate::AudioStage;

/// The four G.726 rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum G726Rate {
    /// 16 kbit/s, 2-bit code words.
    Kbps16,
    /// 24 kbit/s, 3-bit code words.
    Kbps24,
    /// 32 kbit/s, 4-bit code words (the former G.721).
    Kbps32,
    /// 40 kbit/s, 5-bit code words (the rate for voiceband data).
    Kbps40,
}

impl G726Rate {
    /// Bits per code word.
    pub fn bits(self) -> u32 {
        match self {
            G726Rate::Kbps16 => 2,
            G726Rate::Kbps24 => 3,
            G726Rate::Kbps32 => 4,
            G726Rate::Kbps40 => 5,
        }
    }

    /// The bit rate in bit/s.
    pub fn bit_rate(self) -> u32 {
        self.bits() * 8000
    }

    /// The rate for a bit rate in bit/s, if it is one of the four.
    pub fn from_bit_rate(bps: u32) -> Option<Self> {
        match bps {
            16_000 => Some(G726Rate::Kbps16),
            24_000 => Some(G726Rate::Kbps24),
            32_000 => Some(G726Rate::Kbps32),
            40_000 => Some(G726Rate::Kbps40),
            _ => None,
        }
    }

    fn tables(self) -> &'static Tables {
        match self {
            G726Rate::Kbps16 => &T16,
            G726Rate::Kbps24 => &T24,
            G726Rate::Kbps32 => &T32,
            G726Rate::Kbps40 => &T40,
        }
    }
}

/// Per-rate tables, indexed by the quantizer magnitude |I|.
struct Tables {
    /// Lower decision levels of DLN (log2 of the normalised difference, Q7) for |I| = 1, 2, …
    decision: &'static [i32],
    /// Reconstruction level DQLN (Q7) per |I|; `-2048` stands for minus infinity.
    recon: &'static [i32],
    /// Scale-factor multiplier W(I), Q4.
    w: &'static [i32],
    /// F(I) for the adaptation speed control.
    f: &'static [i32],
}

// Quantizer tables of G.726 (Tables 1–4 and the QUAN/RECONST/FUNCTW/FUNCTF blocks of §4).
static T32: Tables = Tables {
    decision: &[-124, 80, 178, 246, 300, 349, 400],
    recon: &[-2048, 4, 135, 213, 273, 323, 373, 425],
    w: &[-12, 18, 41, 64, 112, 198, 355, 1122],
    f: &[0, 0, 0, 1, 1, 1, 3, 7],
};
static T24: Tables = Tables {
    decision: &[8, 218, 331],
    recon: &[-2048, 135, 273, 373],
    w: &[-4, 30, 137, 582],
    f: &[0, 1, 2, 7],
};
static T16: Tables = Tables {
    decision: &[261],
    recon: &[116, 365],
    w: &[-22, 439],
    f: &[0, 7],
};
static T40: Tables = Tables {
    decision: &[
        -122, -16, 68, 139, 198, 250, 298, 339, 378, 413, 445, 475, 502, 528, 553,
    ],
    recon: &[
        -2048, -66, 28, 104, 169, 224, 274, 318, 358, 395, 429, 459, 488, 514, 539, 566,
    ],
    w: &[
        14, 14, 24, 39, 40, 41, 58, 100, 141, 179, 219, 280, 358, 440, 529, 696,
    ],
    f: &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6],
};

/// Floating-point word of the predictor's signal memory (sign, 4-bit exponent, 6-bit
/// mantissa), built from a magnitude and a sign (FLOATA/FLOATB).
fn float_word(sign: bool, mag: i32) -> i32 {
    let exp = 32 - (mag as u32).leading_zeros() as i32;
    let mant = if mag == 0 { 1 << 5 } else { (mag << 6) >> exp };
    ((sign as i32) << 10) | (exp << 6) | mant
}

/// FMULT: a 16-bit predictor coefficient times an 11-bit floating-point signal word, as a
/// 16-bit two's complement value.
fn fmult(an: i32, srn: i32) -> i32 {
    let an_s = an >> 15 != 0;
    let an_mag = if an_s { (-(an >> 2)) & 8191 } else { an >> 2 };
    let an_exp = 32 - (an_mag as u32).leading_zeros() as i32;
    let an_mant = if an_mag == 0 {
        1 << 5
    } else {
        (an_mag << 6) >> an_exp
    };
    let sr_s = (srn >> 10) != 0;
    let sr_exp = (srn >> 6) & 15;
    let sr_mant = srn & 63;
    let w_s = sr_s ^ an_s;
    let w_exp = sr_exp + an_exp;
    let w_mant = (sr_mant * an_mant + 48) >> 4;
    let w_mag = if w_exp <= 26 {
        (w_mant << 7) >> (26 - w_exp)
    } else {
        ((w_mant << 7) << (w_exp - 26)) & 32767
    };
    if w_s { (-w_mag) & 65535 } else { w_mag }
}

/// Sign-extends a `bits`-wide two's complement word.
#[inline]
fn sext(v: i32, bits: u32) -> i32 {
    let sh = 32 - bits;
    (v << sh) >> sh
}

/// The state shared by the encoder and the decoder (everything but the quantizer).
#[derive(Debug, Clone)]
struct State {
    rate: G726Rate,
    /// Slow scale factor yl, 19 bits (Q15 of log2).
    yl: i32,
    /// Fast scale factor yu, 13 bits (Q9).
    yu: i32,
    /// Short- and long-term averages of F(I): 12 and 14 bits.
    dms: i32,
    dml: i32,
    /// Speed control parameter ap, 10 bits (Q8).
    ap: i32,
    /// Pole coefficients a1, a2 and zero coefficients b1..b6 (16-bit words, Q14).
    a: [i32; 2],
    b: [i32; 6],
    /// Sign of dq+sez of the last two samples.
    pk: [bool; 2],
    /// dq(k-1..k-6) and sr(k-1..k-2) as 11-bit floating-point words.
    dq: [i32; 6],
    sr: [i32; 2],
    /// Tone detector output of the previous sample.
    td: bool,
}

/// Values the predictor gives for the current sample.
struct Prediction {
    se: i32,
    sez: i32,
    y: i32,
}

impl State {
    fn new(rate: G726Rate) -> Self {
        State {
            rate,
            yl: 34816,
            yu: 544,
            dms: 0,
            dml: 0,
            ap: 0,
            a: [0; 2],
            b: [0; 6],
            pk: [false; 2],
            dq: [32; 6],
            sr: [32; 2],
            td: false,
        }
    }

    fn predict(&self) -> Prediction {
        // ACCUM: 16-bit wrapping sums of the products.
        let mut sezi = 0i32;
        for i in 0..6 {
            sezi = (sezi + fmult(self.b[i], self.dq[i])) & 65535;
        }
        let sei = (sezi + fmult(self.a[0], self.sr[0]) + fmult(self.a[1], self.sr[1])) & 65535;
        let sez = sezi >> 1;
        let se = sei >> 1;
        // LIMA + MIX.
        let al = if self.ap >= 256 { 64 } else { self.ap >> 2 };
        let dif = (self.yu + 16384 - (self.yl >> 6)) & 16383;
        let difs = dif >> 13;
        let difm = if difs != 0 { (16384 - dif) & 8191 } else { dif };
        let prodm = (difm * al) >> 6;
        let prod = if difs != 0 {
            (16384 - prodm) & 16383
        } else {
            prodm
        };
        let y = ((self.yl >> 6) + prod) & 8191;
        Prediction { se, sez, y }
    }

    /// Inverse quantizer (RECONST, ADDA, ANTILOG): the 15-bit sign-magnitude dq.
    fn dequantize(&self, mag: usize, neg: bool, y: i32) -> i32 {
        let dqln = self.rate.tables().recon[mag] & 4095;
        let dql = (dqln + (y >> 2)) & 4095;
        let ds = dql >> 11;
        let dex = (dql >> 7) & 15;
        let dqt = 128 + (dql & 127);
        let dqmag = if ds != 0 { 0 } else { (dqt << 7) >> (14 - dex) };
        ((neg as i32) << 14) | dqmag
    }

    /// Everything after the quantizer: reconstruction and the adaptation of every state
    /// variable. Returns the reconstructed signal sr (16-bit two's complement).
    fn update(&mut self, mag: usize, dq: i32, p: &Prediction) -> i32 {
        let t = self.rate.tables();
        let dqs = dq >> 14 != 0;
        let dqmag = dq & 16383;
        // ADDB: sr = se + dq.
        let dqi = if dqs { (65536 - dqmag) & 65535 } else { dqmag };
        let sei = sext(p.se, 15) & 65535;
        let sr = (dqi + sei) & 65535;
        // ADDC: sign of dq + sez.
        let sezi = sext(p.sez, 15) & 65535;
        let dqsez = (dqi + sezi) & 65535;
        let pk0 = dqsez >> 15 != 0;
        let sigpk = dqsez == 0;

        // TRANS: transition detector, from the previous td and yl.
        let ylint = self.yl >> 15;
        let ylfrac = (self.yl >> 10) & 31;
        let thr1 = (32 + ylfrac) << ylint;
        let thr2 = if ylint > 9 { 31 << 10 } else { thr1 };
        let dqthr = (thr2 + (thr2 >> 1)) >> 1;
        let tr = self.td && dqmag > dqthr;

        // UPA2.
        let pks1 = pk0 ^ self.pk[0];
        let pks2 = pk0 ^ self.pk[1];
        let a1 = self.a[0];
        let a2 = self.a[1];
        let uga2a = if pks2 { 114688 } else { 16384 };
        let fa1 = if a1 >> 15 == 0 {
            if a1 <= 8191 { a1 << 2 } else { 8191 << 2 }
        } else if a1 >= 57345 {
            (a1 << 2) & 131071
        } else {
            24577 << 2
        };
        let fa = if pks1 { fa1 } else { (131072 - fa1) & 131071 };
        let uga2b = (uga2a + fa) & 131071;
        let uga2 = if sigpk {
            0
        } else if uga2b >> 16 != 0 {
            (uga2b >> 7) + 64512
        } else {
            uga2b >> 7
        };
        let ula2 = if a2 >> 15 != 0 {
            (65536 - ((a2 >> 7) + 65024)) & 65535
        } else {
            (65536 - (a2 >> 7)) & 65535
        };
        let a2t = (a2 + ((uga2 + ula2) & 65535)) & 65535;
        // LIMC: |a2| <= 0.75.
        let a2p = if (32768..53248).contains(&a2t) {
            53248
        } else if (12289..32768).contains(&a2t) {
            12288
        } else {
            a2t
        };
        // UPA1.
        let uga1 = if sigpk {
            0
        } else if pks1 {
            65344
        } else {
            192
        };
        let ula1 = if a1 >> 15 != 0 {
            (65536 - ((a1 >> 8) + 65280)) & 65535
        } else {
            (65536 - (a1 >> 8)) & 65535
        };
        let a1t = (a1 + ((uga1 + ula1) & 65535)) & 65535;
        // LIMD: |a1| <= 1 - 2^-4 - a2.
        let a1ul = (15360 + 65536 - a2p) & 65535;
        let a1ll = (a2p + 65536 - 15360) & 65535;
        let a1p = if a1t >= 32768 && a1t < a1ll {
            a1ll
        } else if a1t > a1ul && a1t <= 32767 {
            a1ul
        } else {
            a1t
        };
        // UPB + XOR.
        let mut bp = [0i32; 6];
        for ((b_new, &bn), &dqn) in bp.iter_mut().zip(&self.b).zip(&self.dq) {
            let dqns = dqn >> 10 != 0;
            let ugb = if dqmag == 0 {
                0
            } else if dqs ^ dqns {
                65408
            } else {
                128
            };
            let ulb = if self.rate == G726Rate::Kbps40 {
                if bn >> 15 != 0 {
                    (65536 - ((bn >> 9) + 65408)) & 65535
                } else {
                    (65536 - (bn >> 9)) & 65535
                }
            } else if bn >> 15 != 0 {
                (65536 - ((bn >> 8) + 65280)) & 65535
            } else {
                (65536 - (bn >> 8)) & 65535
            };
            *b_new = (bn + ((ugb + ulb) & 65535)) & 65535;
        }
        // TONE + TRIGB.
        let tdp = (32768..53760).contains(&a2p);

        // FUNCTW, FILTD, LIMB, FILTE: scale factor adaptation.
        let wi = t.w[mag] & 4095;
        let dif = ((wi << 5) + 131072 - p.y) & 131071;
        let difsx = if dif >> 16 != 0 {
            (dif >> 5) + 4096
        } else {
            dif >> 5
        };
        let yut = (p.y + difsx) & 8191;
        // LIMB: 1.06 <= yu <= 10.
        let yup = yut.clamp(544, 5120);
        let dif = (yup + ((1_048_576 - self.yl) >> 6)) & 16383;
        let difsx = if dif >> 13 != 0 { dif + 507_904 } else { dif };
        let ylp = (self.yl + difsx) & 524_287;

        // FUNCTF, FILTA, FILTB, SUBTC, FILTC, TRIGA: adaptation speed control.
        let fi = t.f[mag];
        let dif = ((fi << 9) + 8192 - self.dms) & 8191;
        let difsx = if dif >> 12 != 0 {
            (dif >> 5) + 3840
        } else {
            dif >> 5
        };
        let dmsp = (difsx + self.dms) & 4095;
        let dif = ((fi << 11) + 32768 - self.dml) & 32767;
        let difsx = if dif >> 14 != 0 {
            (dif >> 7) + 16128
        } else {
            dif >> 7
        };
        let dmlp = (difsx + self.dml) & 16383;
        let dif = ((dmsp << 2) + 32768 - dmlp) & 32767;
        let difm = if dif >> 14 != 0 {
            (32768 - dif) & 16383
        } else {
            dif
        };
        let dthr = dmlp >> 3;
        let ax = if p.y >= 1536 && difm < dthr && !tdp {
            0
        } else {
            1
        };
        let dif = ((ax << 9) + 2048 - self.ap) & 2047;
        let difsx = if dif >> 10 != 0 {
            (dif >> 4) + 896
        } else {
            dif >> 4
        };
        let app = (difsx + self.ap) & 1023;
        let apr = if tr { 256 } else { app };

        // Commit the new state.
        self.yu = yup;
        self.yl = ylp;
        self.dms = dmsp;
        self.dml = dmlp;
        self.ap = apr;
        if tr {
            self.a = [0; 2];
            self.b = [0; 6];
        } else {
            self.a = [a1p, a2p];
            self.b = bp;
        }
        self.td = if tr { false } else { tdp };
        self.pk = [pk0, self.pk[0]];
        self.dq.copy_within(0..5, 1);
        self.dq[0] = float_word(dqs, dqmag);
        self.sr[1] = self.sr[0];
        let srs = sr >> 15 != 0;
        let srmag = if srs { (65536 - sr) & 32767 } else { sr };
        self.sr[0] = float_word(srs, srmag);
        sr
    }
}

/// Maps a code word to (|I|, negative) for the rate.
fn code_to_level(rate: G726Rate, code: u8) -> (usize, bool) {
    let bits = rate.bits();
    let code = (code as u32) & ((1 << bits) - 1);
    let half = 1 << (bits - 1);
    if rate == G726Rate::Kbps16 {
        // 16 kbit/s has four non-zero levels: 0/1 positive (inner/outer), 3/2 negative.
        return match code {
            0 => (0, false),
            1 => (1, false),
            2 => (1, true),
            _ => (0, true),
        };
    }
    if code < half {
        (code as usize, false)
    } else {
        (((1 << bits) - 1 - code) as usize, true)
    }
}

/// Converts a 16-bit sample to the recommendation's 14-bit uniform input.
#[inline]
fn to_14bit(x: i16) -> i32 {
    (x as i32) >> 2
}

/// Converts the 16-bit reconstructed sr to a 16-bit output sample.
#[inline]
fn from_sr(sr: i32) -> i16 {
    (sext(sr, 16).clamp(-8192, 8191) << 2) as i16
}

/// A G.726 encoder.
#[derive(Debug, Clone)]
pub struct G726Encoder {
    st: State,
}

impl G726Encoder {
    /// A fresh encoder in the reset state of the recommendation.
    pub fn new(rate: G726Rate) -> Self {
        G726Encoder {
            st: State::new(rate),
        }
    }

    /// Encodes one 16-bit sample into a code word (low bits of the byte).
    pub fn encode(&mut self, sample: i16) -> u8 {
        let rate = self.st.rate;
        let p = self.st.predict();
        let sl = to_14bit(sample);
        // SUBTA: d = sl - se, 16-bit.
        let sei = sext(p.se, 15);
        let d = sl - sei;
        // LOG.
        let ds = d < 0;
        let dqm = d.unsigned_abs() as i32 & 32767;
        let exp = 31 - (dqm.max(1) as u32).leading_zeros() as i32;
        let exp = if dqm == 0 { 0 } else { exp };
        let mant = ((dqm << 7) >> exp) & 127;
        let dl = (exp << 7) + mant;
        // SUBTB + QUAN.
        let dln = sext((dl + 4096 - (p.y >> 2)) & 4095, 12);
        let t = rate.tables();
        let mag = t.decision.iter().take_while(|&&lvl| dln >= lvl).count();
        let bits = rate.bits();
        let code = if rate == G726Rate::Kbps16 {
            match (ds, mag) {
                (false, 0) => 0,
                (false, _) => 1,
                (true, 0) => 3,
                (true, _) => 2,
            }
        } else if ds || mag == 0 {
            // The all-zero code word is not used: the lowest interval of either sign is
            // sent as the negative zero level.
            (1 << bits) - 1 - mag as u32
        } else {
            mag as u32
        };
        let (mag, neg) = code_to_level(rate, code as u8);
        let dq = self.st.dequantize(mag, neg, p.y);
        self.st.update(mag, dq, &p);
        code as u8
    }
}

/// A G.726 decoder.
#[derive(Debug, Clone)]
pub struct G726Decoder {
    st: State,
}

impl G726Decoder {
    /// A fresh decoder in the reset state of the recommendation.
    pub fn new(rate: G726Rate) -> Self {
        G726Decoder {
            st: State::new(rate),
        }
    }

    /// Decodes one code word (low bits of the byte) into a 16-bit sample.
    pub fn decode(&mut self, code: u8) -> i16 {
        let (mag, neg) = code_to_level(self.st.rate, code);
        let p = self.st.predict();
        let dq = self.st.dequantize(mag, neg, p.y);
        from_sr(self.st.update(mag, dq, &p))
    }
}

/// G.726 encode and decode back to back: what a G.726 link does to audio.
#[derive(Debug, Clone)]
pub struct G726 {
    enc: G726Encoder,
    dec: G726Decoder,
}

impl G726 {
    /// A tandem encoder/decoder at `rate`.
    pub fn new(rate: G726Rate) -> Self {
        G726 {
            enc: G726Encoder::new(rate),
            dec: G726Decoder::new(rate),
        }
    }
}

impl AudioStage for G726 {
    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        out.extend(input.iter().map(|&x| {
            let c = self.enc.encode(x);
            self.dec.decode(c)
        }));
    }
}
