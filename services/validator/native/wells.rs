//! What a record says of its well (codes, names, data source), resolved once by Python
//! (``wells.sent_of``, ``Sent.resolve``) against each reference object and kept as
//! JSON fragments and the start of its record id's hash.

use std::borrow::Cow;
use std::rc::Rc;

use blake2::digest::{Update, VariableOutput};
use blake2::Blake2bVar;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyString, PyTuple};
use rustc_hash::FxHashMap;

use crate::json::{write_field, write_str};
use crate::raw::{Code, Raw};
use crate::CACHE_LIMIT;

/// A well's identity and enrichment, resolved against one reference object.
pub struct Resolved {
    /// The reference it was resolved with (``_OFF``, ``_UNKNOWN`` or a ``WellRef``).
    pub reference: Py<PyAny>,
    pub well: Py<PyString>,
    pub source: Py<PyString>,
    /// From "well_code" to "well_name", each field followed by a comma.
    pub identity: Vec<u8>,
    /// From "flags" to "data_source", each field followed by a comma.
    pub tail: Vec<u8>,
    pub flags: Vec<String>,
    /// The record id's hash of "well␟field␟" so far, and its last bytes (the data source).
    pub id_prefix: Blake2bVar,
    pub id_source: Vec<u8>,
}

/// One combination of codes, names and data source (``wells.Sent``).
pub struct Sent {
    pub sent: Py<PyAny>,
    pub well: Py<PyString>,
    pub resolved: Option<Rc<Resolved>>,
}

/// The ``Sent`` of the record's codes, names and data source, made on first sight; None
/// when they need the full path.
pub fn sent_entry<'a>(
    py: Python,
    cache: &'a mut FxHashMap<Vec<u8>, Option<Sent>>,
    key: &mut Vec<u8>,
    sent_of: &Py<PyAny>,
    raw: &Raw,
) -> PyResult<Option<&'a mut Sent>> {
    key.clear();
    let code = |key: &mut Vec<u8>, code: Option<&Code>| {
        match code {
            None => key.push(0),
            Some(Code::Int(v)) => {
                key.push(1);
                key.extend_from_slice(&v.to_le_bytes());
            }
            Some(Code::Text(text)) => {
                key.push(2);
                key.extend_from_slice(text.as_bytes());
            }
        }
        key.push(0xff); // never in UTF-8
    };
    let text = |key: &mut Vec<u8>, text: &Option<Cow<str>>| {
        match text {
            None => key.push(0),
            Some(text) => {
                key.push(2);
                key.extend_from_slice(text.as_bytes());
            }
        }
        key.push(0xff);
    };
    code(key, Some(raw.well_code()));
    code(key, raw.field_code.as_ref());
    text(key, &raw.field_name);
    text(key, &raw.well_name);
    text(key, &raw.well_reference);
    text(key, &raw.data_source);
    if !cache.contains_key(key.as_slice()) {
        let entry = new_sent(py, sent_of, raw)?;
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key.clone(), entry);
    }
    Ok(cache.get_mut(key.as_slice()).and_then(Option::as_mut))
}

fn new_sent(py: Python, sent_of: &Py<PyAny>, raw: &Raw) -> PyResult<Option<Sent>> {
    let code = |code: Option<&Code>| -> Py<PyAny> {
        match code {
            None => py.None(),
            Some(Code::Int(v)) => PyInt::new(py, *v).into_any().unbind(),
            Some(Code::Text(text)) => PyString::new(py, text).into_any().unbind(),
        }
    };
    let text = |text: &Option<Cow<str>>| -> Py<PyAny> {
        match text {
            None => py.None(),
            Some(text) => PyString::new(py, text).into_any().unbind(),
        }
    };
    // In the order of wells.SentKey
    let key = PyTuple::new(
        py,
        [
            code(Some(raw.well_code())),
            code(raw.field_code.as_ref()),
            text(&raw.field_name),
            text(&raw.well_name),
            text(&raw.well_reference),
            text(&raw.data_source),
        ],
    )?;
    let sent = sent_of.bind(py).call1((key,))?;
    if sent.is_none() {
        return Ok(None);
    }
    let well = sent.getattr("well")?.cast_into::<PyString>()?.unbind();
    Ok(Some(Sent {
        sent: sent.unbind(),
        well,
        resolved: None,
    }))
}

/// The JSON fragments and hash state of a ``wells.Resolved`` tuple.
pub fn resolved(tuple: &Bound<PyTuple>) -> PyResult<Resolved> {
    let item = |i: usize| tuple.get_item(i);
    let mut identity = Vec::with_capacity(160);
    let names = [
        "well_code",
        "well_code_raw",
        "field_code",
        "field_name",
        "well_reference",
        "well_name",
    ];
    for (i, name) in names.iter().enumerate() {
        write_field(&mut identity, name, &item(i + 1)?)?;
    }
    let flags: Vec<String> = item(12)?.extract()?;
    let mut tail = Vec::with_capacity(160);
    tail.extend_from_slice(b"\"flags\":[");
    for (i, flag) in flags.iter().enumerate() {
        if i > 0 {
            tail.push(b',');
        }
        write_str(&mut tail, flag);
    }
    tail.extend_from_slice(b"],");
    let names = ["operator", "basin", "country", "well_status", "data_source"];
    for (i, name) in names.iter().enumerate() {
        write_field(&mut tail, name, &item(i + 7)?)?;
    }
    let well = item(1)?.cast_into::<PyString>()?;
    let field = item(3)?.cast_into::<PyString>()?;
    let source = item(11)?.cast_into::<PyString>()?;
    let mut id_prefix = Blake2bVar::new(16).map_err(|e| PyValueError::new_err(e.to_string()))?;
    id_prefix.update(format!("{}\x1f{}\x1f", well.to_str()?, field.to_str()?).as_bytes());
    Ok(Resolved {
        reference: item(0)?.unbind(),
        well: well.unbind(),
        id_source: source.to_str()?.as_bytes().to_vec(),
        source: source.unbind(),
        identity,
        tail,
        flags,
        id_prefix,
    })
}
