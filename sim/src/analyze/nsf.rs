//! NSF, NSS and NSC: the T.35 country code and the vendor octets.
//!
//! T.35 gives each country one octet, and the country's administration assigns the two
//! provider octets that follow. Many terminals send the country octet bit-reversed (its
//! first bit sent is the most significant instead of the least), so both readings are
//! tried; the vendor octets are shown as they came.

/// T.35 country codes faxsim knows, as T.35 Annex A numbers them.
const COUNTRIES: &[(u8, &str)] = &[
    (0x00, "Japan"),
    (0x04, "Germany"),
    (0x09, "Australia"),
    (0x0a, "Austria"),
    (0x20, "Canada"),
    (0x26, "China"),
    (0x3d, "France"),
    (0x59, "Italy"),
    (0x61, "Korea (Republic of)"),
    (0x82, "Netherlands"),
    (0xa5, "Spain"),
    (0xa7, "Sweden"),
    (0xa8, "Switzerland"),
    (0xb4, "United Kingdom"),
    (0xb5, "United States"),
];

/// The country for a T.35 country octet, trying the bit-reversed reading too.
pub fn country(code: u8) -> Option<(&'static str, bool)> {
    let find = |c: u8| COUNTRIES.iter().find(|(k, _)| *k == c).map(|(_, n)| *n);
    find(code)
        .map(|n| (n, false))
        .or_else(|| find(code.reverse_bits()).map(|n| (n, true)))
}

/// An NSF/NSS/NSC information field in words: country, vendor octets, length.
pub fn describe(fif: &[u8]) -> String {
    let Some(&c) = fif.first() else {
        return "empty".into();
    };
    let country = match country(c) {
        Some((name, false)) => format!("country {name} ({c:#04x})"),
        Some((name, true)) => format!("country {name} ({c:#04x}, bit-reversed)"),
        None => format!("country code {c:#04x} (unknown)"),
    };
    let vendor: Vec<String> = fif
        .iter()
        .skip(1)
        .take(2)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{country}, vendor {}, {} octets of facilities",
        if vendor.is_empty() {
            "-".to_string()
        } else {
            vendor.join(" ")
        },
        fif.len().saturating_sub(3)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bit_orders_are_read() {
        assert_eq!(country(0xb5), Some(("United States", false)));
        assert_eq!(country(0xad), Some(("United States", true)));
        assert!(describe(&[0x00, 0x00, 0x0e, 0x01]).starts_with("country Japan"));
        assert!(describe(&[0xee]).contains("unknown"));
    }
}
