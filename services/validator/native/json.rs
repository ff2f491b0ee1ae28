//! JSON output, as msgspec writes it (its float and datetime formats included), so a
//! record reads the same whichever path wrote it.

use pyo3::prelude::*;
use pyo3::types::PyString;

pub fn write_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

pub fn write_float(out: &mut Vec<u8>, value: Option<f64>, buffer: &mut ryu::Buffer) {
    match value {
        Some(v) => out.extend_from_slice(buffer.format_finite(v).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

pub fn write_int<T: itoa::Integer>(out: &mut Vec<u8>, value: T) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// `"key":` then the field, for the fields written from Python objects.
pub fn write_field(out: &mut Vec<u8>, key: &str, value: &Bound<PyAny>) -> PyResult<()> {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    if value.is_none() {
        out.extend_from_slice(b"null");
    } else {
        write_str(out, value.cast::<PyString>()?.to_str()?);
    }
    out.push(b',');
    Ok(())
}

/// The last millisecond of year 9999, the last a Python datetime holds.
pub const LAST_MS: u64 = 253_402_300_799_999;

/// ``ms`` after the epoch as msgspec writes ``datetime.fromtimestamp(ms / 1000, UTC)``
/// (exact to the millisecond up to ``LAST_MS``: the float is within half a microsecond).
pub fn write_moment(out: &mut Vec<u8>, ms: u64) {
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    // Days to a civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms")
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let two = |out: &mut Vec<u8>, v: u64| {
        out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8])
    };
    out.push(b'"');
    two(out, year / 100);
    two(out, year % 100);
    out.push(b'-');
    two(out, month);
    out.push(b'-');
    two(out, day);
    out.push(b'T');
    two(out, rest / 3_600_000);
    out.push(b':');
    two(out, rest / 60_000 % 60);
    out.push(b':');
    two(out, rest / 1_000 % 60);
    let millis = rest % 1_000;
    if millis != 0 {
        out.push(b'.');
        out.push(b'0' + (millis / 100) as u8);
        two(out, millis % 100);
        out.extend_from_slice(b"000");
    }
    out.extend_from_slice(b"Z\"");
}
