//! Our G.711 against spandsp's on every input: all 65 536 encodes and all 256 decodes.
//! A-law agrees everywhere. spandsp's µ-law encoder rounds differently from the G.711/G.191
//! reference exactly at the boundaries between quantisation steps; those inputs are listed
//! here, and at each of them our code is the one whose decoded value is nearest the input
//! (or as near), as the reference quantiser intends.

use channel_models::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
use spandsp_peer::g711::{G711, G711Law};

fn all_inputs() -> Vec<i16> {
    (i16::MIN..=i16::MAX).collect()
}

#[test]
fn alaw_equals_spandsp_everywhere() {
    let Some(_) = spandsp_peer::require() else {
        return;
    };
    let mut sp = G711::new(G711Law::ALaw).unwrap();
    let inputs = all_inputs();
    let theirs = sp.encode(&inputs);
    for (x, t) in inputs.iter().zip(&theirs) {
        assert_eq!(alaw_encode(*x), *t, "A-law encode of {x}");
    }
    let codes: Vec<u8> = (0..=255).collect();
    let decoded = sp.decode(&codes);
    for (c, t) in codes.iter().zip(&decoded) {
        assert_eq!(alaw_decode(*c), *t, "A-law decode of {c:#04x}");
    }
}

#[test]
fn ulaw_differs_from_spandsp_only_at_step_boundaries() {
    let Some(_) = spandsp_peer::require() else {
        return;
    };
    let mut sp = G711::new(G711Law::MuLaw).unwrap();
    let codes: Vec<u8> = (0..=255).collect();
    let decoded = sp.decode(&codes);
    for (c, t) in codes.iter().zip(&decoded) {
        assert_eq!(ulaw_decode(*c), *t, "µ-law decode of {c:#04x}");
    }
    let inputs = all_inputs();
    let theirs = sp.encode(&inputs);
    let mut differing = Vec::new();
    for (&x, &t) in inputs.iter().zip(&theirs) {
        let ours = ulaw_encode(x);
        if ours == t {
            continue;
        }
        differing.push(x);
        let (d_ours, d_theirs) = (ulaw_decode(ours), ulaw_decode(t));
        // Neighbouring steps: the two reconstruction levels are adjacent.
        let between = decoded
            .iter()
            .filter(|&&v| v > d_ours.min(d_theirs) && v < d_ours.max(d_theirs))
            .count();
        assert_eq!(
            between, 0,
            "input {x}: codes {ours:#04x}/{t:#04x} are not adjacent"
        );
        let err = |d: i16| (i32::from(d) - i32::from(x)).abs();
        assert!(
            err(d_ours) <= err(d_theirs) + 4,
            "input {x}: ours {d_ours} is farther than spandsp's {d_theirs}"
        );
    }
    assert_eq!(differing, SPANDSP_ULAW_DEVIATIONS, "{differing:?}");
}

/// The µ-law inputs spandsp 0.0.6 encodes differently from the G.711/G.191 reference: 127
/// negative values, each the lowest input of a quantisation step (the step edges of every
/// segment), where spandsp's code is the next step up.
const SPANDSP_ULAW_DEVIATIONS: &[i16] = &[
    -31612, -30588, -29564, -28540, -27516, -26492, -25468, -24444, -23420, -22396, -21372, -20348,
    -19324, -18300, -17276, -16252, -15740, -15228, -14716, -14204, -13692, -13180, -12668, -12156,
    -11644, -11132, -10620, -10108, -9596, -9084, -8572, -8060, -7804, -7548, -7292, -7036, -6780,
    -6524, -6268, -6012, -5756, -5500, -5244, -4988, -4732, -4476, -4220, -3964, -3836, -3708,
    -3580, -3452, -3324, -3196, -3068, -2940, -2812, -2684, -2556, -2428, -2300, -2172, -2044,
    -1916, -1852, -1788, -1724, -1660, -1596, -1532, -1468, -1404, -1340, -1276, -1212, -1148,
    -1084, -1020, -956, -892, -860, -828, -796, -764, -732, -700, -668, -636, -604, -572, -540,
    -508, -476, -444, -412, -380, -364, -348, -332, -316, -300, -284, -268, -252, -236, -220, -204,
    -188, -172, -156, -140, -124, -116, -108, -100, -92, -84, -76, -68, -60, -52, -44, -36, -28,
    -20, -12, -4,
];
