//! The validator's native fast path: a clean raw record from its JSON bytes to the JSON of
//! its canonical record, in one pass, without building Python objects for its fields.
//!
//! It answers only for records it can read without doubt and gives every other one back,
//! untouched, to the Python fast path (``validator.fastpath``), which gives what it cannot
//! decide to the full path. What depends on a well, a period or a unit is resolved once by
//! the Python functions that own those rules (passed in at construction) and kept here, so
//! there is one definition of each rule. The arithmetic is the Python fast path's,
//! operation for operation, and the JSON is what msgspec writes for the same record, byte
//! for byte (``tests/unit/validator/test_native.py``).

mod json;
mod raw;
mod record;
mod wells;

use std::rc::Rc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use rustc_hash::FxHashMap;

use json::{write_int, write_str, LAST_MS};
use raw::{quantity, Raw, Rev};
use record::{Lineage, Measured, Period};
use wells::{resolved, sent_entry, Resolved, Sent};

/// Entries kept per cache before it is cleared: a few batches' worth stays warm.
const CACHE_LIMIT: usize = 65_536;

#[pyclass(module = "validator._native", unsendable)]
struct NativePath {
    sent_of: Py<PyAny>,
    period_of: Py<PyAny>,
    factor_of: Py<PyAny>,
    normalized_type: Py<PyAny>,
    off: Py<PyAny>,
    unknown: Py<PyAny>,
    mcf_per_boe: f64,
    scf_per_mcf: f64,
    rate_to_total: f64,
    version_shift: u32,
    max_revision: u64,
    schema_version: i64,
    sent: FxHashMap<Vec<u8>, Option<Sent>>,
    periods: FxHashMap<String, Option<Rc<Period>>>,
    /// Per stream, each unit spelling seen and its factor to canonical.
    factors: [FxHashMap<String, Option<f64>>; 4],
    key: Vec<u8>,
    out: Vec<u8>,
}

/// Per batch: its limits and clock.
struct Batch<'py> {
    reference: Option<Bound<'py, PyAny>>,
    unknown_well_flag: bool,
    ceilings: [f64; 4],
    latest_start: i64,
    normalized_at: Vec<u8>,
}

/// Gives the record back to the Python fast path.
struct Bail;

#[pymethods]
impl NativePath {
    /// ``sent_of(key)``: a ``wells.Sent``, or None when the codes need the full path;
    /// ``period_of(text)``: (text, start ISO, kind, days, start ordinal) or None;
    /// ``factor_of(stream index, unit)``: the factor to canonical or None;
    /// ``normalized_type(key, body, correlation id)`` makes an output; ``off`` and
    /// ``unknown``: enrichment off, or on and the well unknown; ``constants``: (Mcf per
    /// boe, scf per Mcf, rate to total, version shift, max revision, schema version).
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        sent_of: Py<PyAny>,
        period_of: Py<PyAny>,
        factor_of: Py<PyAny>,
        normalized_type: Py<PyAny>,
        off: Py<PyAny>,
        unknown: Py<PyAny>,
        constants: (f64, f64, f64, u32, u64, i64),
    ) -> Self {
        let (mcf_per_boe, scf_per_mcf, rate_to_total, version_shift, max_revision, schema_version) =
            constants;
        NativePath {
            sent_of,
            period_of,
            factor_of,
            normalized_type,
            off,
            unknown,
            mcf_per_boe,
            scf_per_mcf,
            rate_to_total,
            version_shift,
            max_revision,
            schema_version,
            sent: FxHashMap::default(),
            periods: FxHashMap::default(),
            factors: Default::default(),
            key: Vec::with_capacity(256),
            out: Vec::with_capacity(4096),
        }
    }

    /// Each message it can answer for becomes a ``normalized_type`` in ``normalized``,
    /// with its (well, period, data source) in ``keys`` and its flags counted in
    /// ``flags``; every other message goes to ``slow``, in order.
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        reference: Option<Bound<'py, PyAny>>,
        unknown_well_flag: bool,
        ceilings: [f64; 4],
        latest_start: i64,
        normalized_at: &Bound<'py, PyBytes>,
        normalized: &Bound<'py, PyList>,
        keys: &Bound<'py, PyList>,
        slow: &Bound<'py, PyList>,
        flags: &Bound<'py, PyDict>,
    ) -> PyResult<()> {
        let batch = Batch {
            reference,
            unknown_well_flag,
            ceilings,
            latest_start,
            normalized_at: normalized_at.as_bytes().to_vec(),
        };
        // Records share their well's resolution, flags included: counted per resolution.
        let mut counts: FxHashMap<*const Resolved, (Rc<Resolved>, usize)> = FxHashMap::default();
        for message in messages.try_iter()? {
            let message = message?;
            let tuple = message.cast::<PyTuple>()?;
            match self.record(py, tuple, &batch)? {
                Ok((item, key, resolved)) => {
                    normalized.append(item)?;
                    keys.append(key)?;
                    if !resolved.flags.is_empty() {
                        counts
                            .entry(Rc::as_ptr(&resolved))
                            .or_insert((resolved, 0))
                            .1 += 1;
                    }
                }
                Err(Bail) => slow.append(tuple)?,
            }
        }
        for (resolved, count) in counts.into_values() {
            for flag in &resolved.flags {
                let before: usize = match flags.get_item(flag)? {
                    Some(value) => value.extract()?,
                    None => 0,
                };
                flags.set_item(flag, before + count)?;
            }
        }
        Ok(())
    }
}

type Answer<'py> = Result<(Bound<'py, PyAny>, Bound<'py, PyTuple>, Rc<Resolved>), Bail>;

impl NativePath {
    /// The canonical record of one message, or ``Bail``. A Python error raised by one of
    /// the rule functions is an error of the batch, not of the record: it propagates.
    fn record<'py>(
        &mut self,
        py: Python<'py>,
        message: &Bound<'py, PyTuple>,
        batch: &Batch<'py>,
    ) -> PyResult<Answer<'py>> {
        let value = message.get_item(0)?;
        let Ok(value) = value.cast::<PyBytes>() else {
            return Ok(Err(Bail));
        };
        let bytes = value.as_bytes();
        // No arrays anywhere: serde would read one as a derived struct's fields in order
        // (``raw::Volumes``), which msgspec and pydantic do not.
        if bytes.contains(&b'[') {
            return Ok(Err(Bail));
        }
        let Ok(raw) = serde_json::from_slice::<Raw>(bytes) else {
            return Ok(Err(Bail));
        };
        self.build(py, message, &raw, batch)
    }

    fn build<'py>(
        &mut self,
        py: Python<'py>,
        message: &Bound<'py, PyTuple>,
        raw: &Raw,
        batch: &Batch<'py>,
    ) -> PyResult<Answer<'py>> {
        let Some(measured) = self.measure(py, raw, batch)? else {
            return Ok(Err(Bail));
        };
        let Some(resolved) = self.resolve(py, raw, batch)? else {
            return Ok(Err(Bail));
        };
        let topic = message.get_item(1)?;
        let Ok(accepted) = message.get_item(4)?.extract::<u64>() else {
            return Ok(Err(Bail));
        };
        if accepted > LAST_MS {
            return Ok(Err(Bail));
        }
        let lineage = Lineage {
            topic: topic.cast::<PyString>()?.to_str()?,
            partition: message.get_item(2)?.extract()?,
            offset: message.get_item(3)?.extract()?,
            accepted,
            normalized_at: &batch.normalized_at,
        };
        let (shift, schema) = (self.version_shift, self.schema_version);
        record::write(
            &mut self.out,
            raw,
            &measured,
            &resolved,
            &lineage,
            shift,
            schema,
        );
        let well = resolved.well.bind(py);
        let body = PyBytes::new(py, &self.out);
        let correlation_id = message.get_item(6)?;
        let item = self
            .normalized_type
            .bind(py)
            .call1((well, body, correlation_id))?;
        let period = measured.period.text.bind(py);
        let source = resolved.source.bind(py);
        let key = PyTuple::new(py, [well.as_any(), period.as_any(), source.as_any()])?;
        Ok(Ok((item, key, resolved)))
    }

    /// The record's numbers, checked and converted as ``FastPath.record`` does, operation
    /// for operation; None when the Python paths must decide.
    fn measure<'r>(
        &mut self,
        py: Python,
        raw: &'r Raw,
        batch: &Batch,
    ) -> PyResult<Option<Measured<'r>>> {
        let [oil_ceiling, gas_ceiling, water_ceiling, liquids_ceiling] = batch.ceilings;
        let numbers = (|| -> Result<_, ()> {
            Ok((
                quantity(&raw.days_on_production, f64::INFINITY)?,
                quantity(&raw.oil_production_kbd, oil_ceiling)?,
                quantity(&raw.gas_production_mmcfd, gas_ceiling)?,
                quantity(&raw.water_production_kbd, water_ceiling)?,
                quantity(&raw.liquids_production_kbd, liquids_ceiling)?,
            ))
        })();
        let Ok((days_on, oil, gas, water, liquids)) = numbers else {
            return Ok(None);
        };
        let revision = match &raw.revision {
            None => 0,
            Some(Rev::Value(v)) if *v <= self.max_revision => *v,
            Some(Rev::Text(text)) if text.is_empty() => 0,
            Some(_) => return Ok(None),
        };
        // The period: resolved once by Python, then checked against this batch's clock.
        let Some(period) = self.period(py, raw.production_period())? else {
            return Ok(None);
        };
        if period.start > batch.latest_start {
            return Ok(None);
        }
        let span = period.span;
        if matches!(days_on, Some(d) if d > span) {
            return Ok(None);
        }
        let rate_to_total = self.rate_to_total;
        let total = |rate: Option<f64>| {
            rate.map(|r| {
                if r == 0.0 {
                    r
                } else {
                    r * span * rate_to_total
                }
            })
        };
        let mut rates = [oil, gas, water, liquids];
        let mut totals = [total(oil), total(gas), total(water), total(liquids)];
        let mut original: [Option<(f64, &str)>; 4] = [None; 4];
        if let Some(volumes) = &raw.volumes {
            let entries = [&volumes.oil, &volumes.gas, &volumes.water, &volumes.liquids];
            for (i, entry) in entries.into_iter().enumerate() {
                let Some(entry) = entry else { continue };
                let Some(factor) = self.factor(py, i, &entry.unit)? else {
                    return Ok(None);
                };
                let Ok(value) = quantity(&entry.value, f64::INFINITY) else {
                    return Ok(None);
                };
                let Some(value) = value else { continue };
                let total = value * factor;
                let rate = total / span / rate_to_total;
                if rate > batch.ceilings[i] {
                    return Ok(None);
                }
                rates[i] = Some(rate);
                totals[i] = Some(total);
                original[i] = Some((value, entry.unit.as_ref()));
            }
        }
        let [oil_bbl, gas_mcf, water_bbl, liquids_bbl] = totals;
        let hydrocarbon = oil_bbl.unwrap_or(0.0) + liquids_bbl.unwrap_or(0.0);
        let boe = if oil_bbl.is_none() && gas_mcf.is_none() && liquids_bbl.is_none() {
            if water_bbl.is_none() {
                return Ok(None); // nothing measured: flagged
            }
            None
        } else {
            Some(hydrocarbon + gas_mcf.unwrap_or(0.0) / self.mcf_per_boe)
        };
        let truthy = |v: &Option<f64>| matches!(v, Some(x) if *x != 0.0);
        if days_on == Some(0.0) && totals.iter().any(truthy) {
            return Ok(None); // volumes without producing time: flagged
        }
        let mut water_cut = None;
        if let Some(water) = water_bbl {
            if (oil_bbl.is_some() || liquids_bbl.is_some()) && hydrocarbon + water > 0.0 {
                water_cut = Some(water / (hydrocarbon + water));
            }
        }
        let mut gor = None;
        if let (Some(oil), Some(gas)) = (oil_bbl, gas_mcf) {
            if oil != 0.0 {
                gor = Some(gas * self.scf_per_mcf / oil);
            }
        }
        let [oil, gas, water, liquids] = rates;
        let values = [
            days_on,
            oil_bbl,
            gas_mcf,
            water_bbl,
            liquids_bbl,
            oil,
            gas,
            water,
            liquids,
            boe,
            water_cut,
            gor,
        ];
        if values
            .iter()
            .any(|v| matches!(v, Some(x) if !x.is_finite()))
        {
            return Ok(None); // msgspec writes null for these; the full path decides
        }
        Ok(Some(Measured {
            period,
            revision,
            values,
            original,
        }))
    }

    /// The record's well, resolved against this batch's reference data (by Python, once
    /// per combination and reference object); None when the Python paths must decide.
    fn resolve(&mut self, py: Python, raw: &Raw, batch: &Batch) -> PyResult<Option<Rc<Resolved>>> {
        let Some(sent) = sent_entry(py, &mut self.sent, &mut self.key, &self.sent_of, raw)? else {
            return Ok(None);
        };
        let reference = match &batch.reference {
            None => self.off.bind(py).clone(),
            Some(mapping) => {
                let well = sent.well.bind(py);
                let found = match mapping.cast::<PyDict>() {
                    Ok(dict) => dict.get_item(well)?,
                    Err(_) => Some(mapping.call_method1("get", (well,))?),
                };
                match found {
                    Some(found) if !found.is_none() => found,
                    _ if batch.unknown_well_flag => self.unknown.bind(py).clone(),
                    _ => return Ok(None), // the full path says why
                }
            }
        };
        let stale = match &sent.resolved {
            Some(resolved) => !resolved.reference.bind(py).is(&reference),
            None => true,
        };
        if stale {
            let tuple = sent.sent.bind(py).call_method1("resolve", (&reference,))?;
            sent.resolved = Some(Rc::new(resolved(tuple.cast::<PyTuple>()?)?));
        }
        Ok(sent.resolved.clone())
    }

    /// The period of ``text`` (resolved by Python once), or None when it needs the full
    /// path.
    fn period(&mut self, py: Python, text: &str) -> PyResult<Option<Rc<Period>>> {
        if let Some(period) = self.periods.get(text) {
            return Ok(period.clone());
        }
        let found = self.period_of.bind(py).call1((text,))?;
        let period = if found.is_none() {
            None
        } else {
            let (period, start, kind, days, ordinal): (Bound<PyString>, String, String, i64, i64) =
                found.extract()?;
            let mut json = Vec::with_capacity(96);
            json.extend_from_slice(b"\"period\":");
            write_str(&mut json, period.to_str()?);
            json.extend_from_slice(b",\"period_start\":");
            write_str(&mut json, &start);
            json.extend_from_slice(b",\"period_type\":");
            write_str(&mut json, &kind);
            json.extend_from_slice(b",\"days_in_period\":");
            write_int(&mut json, days);
            json.push(b',');
            let id_period = format!("{}\x1f{}\x1f", period.to_str()?, kind).into_bytes();
            let span = days as f64;
            Some(Rc::new(Period {
                text: period.unbind(),
                json,
                span,
                start: ordinal,
                id_period,
            }))
        };
        if self.periods.len() >= CACHE_LIMIT {
            self.periods.clear();
        }
        self.periods.insert(text.to_string(), period.clone());
        Ok(period)
    }

    fn factor(&mut self, py: Python, stream: usize, unit: &str) -> PyResult<Option<f64>> {
        if let Some(factor) = self.factors[stream].get(unit) {
            return Ok(*factor);
        }
        let factor: Option<f64> = self.factor_of.bind(py).call1((stream, unit))?.extract()?;
        if self.factors[stream].len() < 256 {
            // spellings of a handful of units; never unbounded
            self.factors[stream].insert(unit.to_string(), factor);
        }
        Ok(factor)
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativePath>()?;
    Ok(())
}
