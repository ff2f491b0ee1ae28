//! A canonical record as JSON, from what was measured, the well as resolved and where
//! the message came from.

use std::rc::Rc;

use blake2::digest::{Update, VariableOutput};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::json::{write_float, write_int, write_moment, write_str};
use crate::raw::{Extra, Raw};
use crate::wells::Resolved;

/// A valid period (``normalize.parse_period``).
pub struct Period {
    pub text: Py<PyString>,
    /// From "period" to "days_in_period", each field followed by a comma.
    pub json: Vec<u8>,
    pub span: f64,
    pub start: i64,
    pub id_period: Vec<u8>,
}

/// Each stream's key in ``original_values``, up to its value.
const STREAMS: [&[u8]; 4] = [
    b"\"oil\":{\"value\":",
    b"\"gas\":{\"value\":",
    b"\"water\":{\"value\":",
    b"\"liquids\":{\"value\":",
];

/// The keys of ``Measured.values``, in the order of the canonical record.
const MEASURES: [&[u8]; 12] = [
    b"\"days_on_production\":",
    b"\"oil_bbl\":",
    b"\"gas_mcf\":",
    b"\"water_bbl\":",
    b"\"liquids_bbl\":",
    b"\"oil_production_kbd\":",
    b"\"gas_production_mmcfd\":",
    b"\"water_production_kbd\":",
    b"\"liquids_production_kbd\":",
    b"\"boe\":",
    b"\"water_cut\":",
    b"\"gor\":",
];

/// What a record measured, checked and in canonical units.
pub struct Measured<'r> {
    pub period: Rc<Period>,
    pub revision: u64,
    /// Days on production, totals, rates, boe, water cut and GOR (``MEASURES``).
    pub values: [Option<f64>; 12],
    /// Per stream, a volume as sent: its value and unit.
    pub original: [Option<(f64, &'r str)>; 4],
}

/// Where a message came from.
pub struct Lineage<'m> {
    pub topic: &'m str,
    pub partition: i64,
    pub offset: i64,
    pub accepted: u64,
    pub normalized_at: &'m [u8],
}

/// The canonical record's JSON into ``out``, its fields in the order of
/// ``structs.Canonical``.
pub fn write(
    out: &mut Vec<u8>,
    raw: &Raw,
    measured: &Measured,
    resolved: &Resolved,
    lineage: &Lineage,
    version_shift: u32,
    schema_version: i64,
) {
    let period = &measured.period;
    let mut digest = resolved.id_prefix.clone();
    digest.update(&period.id_period);
    digest.update(&resolved.id_source);
    let mut id = [0u8; 16];
    digest.finalize_variable(&mut id).expect("16-byte digest");

    out.clear();
    out.extend_from_slice(b"{\"record_id\":\"");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in id {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 0xf) as usize]);
    }
    out.extend_from_slice(b"\",\"version\":");
    write_int(out, (measured.revision << version_shift) | lineage.accepted);
    out.push(b',');
    out.extend_from_slice(&resolved.identity);
    out.extend_from_slice(&period.json);
    let mut buffer = ryu::Buffer::new();
    for (name, value) in MEASURES.iter().zip(measured.values) {
        out.extend_from_slice(name);
        write_float(out, value, &mut buffer);
        out.push(b',');
    }
    out.extend_from_slice(b"\"original_values\":{");
    let mut first = true;
    for (stream, kept) in STREAMS.iter().zip(measured.original) {
        let Some((value, unit)) = kept else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(stream);
        write_float(out, Some(value), &mut buffer);
        out.extend_from_slice(b",\"unit\":");
        write_str(out, unit);
        out.push(b'}');
    }
    out.extend_from_slice(b"},");
    out.extend_from_slice(&resolved.tail);
    out.extend_from_slice(b"\"revision\":");
    write_int(out, measured.revision);
    out.extend_from_slice(b",\"extra\":{");
    for (i, (name, value)) in raw.extra.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, name);
        out.push(b':');
        match value {
            Extra::Null => out.extend_from_slice(b"null"),
            Extra::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
            Extra::Int(v) => write_int(out, *v),
            Extra::UInt(v) => write_int(out, *v),
            Extra::Float(v) => write_float(out, Some(*v), &mut buffer),
            Extra::Text(v) => write_str(out, v),
        }
    }
    out.extend_from_slice(b"},\"source_topic\":");
    write_str(out, lineage.topic);
    out.extend_from_slice(b",\"source_partition\":");
    write_int(out, lineage.partition);
    out.extend_from_slice(b",\"source_offset\":");
    write_int(out, lineage.offset);
    out.extend_from_slice(b",\"ingested_at\":");
    write_moment(out, lineage.accepted);
    out.extend_from_slice(b",\"normalized_at\":");
    out.extend_from_slice(lineage.normalized_at);
    out.extend_from_slice(b",\"schema_version\":");
    write_int(out, schema_version);
    out.push(b'}');
}
