//! The raw record, as far as the native path reads it: serde, borrowing from the bytes
//! wherever the JSON has no escapes. A value of a shape Python would read otherwise is an
//! error here, and the record goes back to Python.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A well or field code: JSON integers within 64 bits, or text.
pub enum Code<'a> {
    Int(i64),
    Text(Cow<'a, str>),
}

/// A measured quantity: a non-negative JSON number, or text (read later, as Python would).
pub enum Num<'a> {
    Value(f64),
    Text(Cow<'a, str>),
}

/// The upstream revision: a non-negative JSON integer, or text (only "" is read here).
pub enum Rev<'a> {
    Value(u64),
    Text(Cow<'a, str>),
}

/// The raw record; fields the contract does not name are kept in ``extra``, in the
/// order sent (as ``parse.fields_of`` keeps them).
#[derive(Default)]
pub struct Raw<'a> {
    pub well_code: Option<Code<'a>>,
    pub production_period: Option<Cow<'a, str>>,
    pub field_code: Option<Code<'a>>,
    pub field_name: Option<Cow<'a, str>>,
    pub well_reference: Option<Cow<'a, str>>,
    pub well_name: Option<Cow<'a, str>>,
    pub days_on_production: Option<Num<'a>>,
    pub oil_production_kbd: Option<Num<'a>>,
    pub gas_production_mmcfd: Option<Num<'a>>,
    pub water_production_kbd: Option<Num<'a>>,
    pub liquids_production_kbd: Option<Num<'a>>,
    pub volumes: Option<Volumes<'a>>,
    pub data_source: Option<Cow<'a, str>>,
    pub revision: Option<Rev<'a>>,
    pub extra: Vec<(Cow<'a, str>, Extra<'a>)>,
}

impl<'a> Raw<'a> {
    pub fn well_code(&self) -> &Code<'a> {
        self.well_code.as_ref().expect("checked when read")
    }
    pub fn production_period(&self) -> &str {
        self.production_period
            .as_deref()
            .expect("checked when read")
    }
}

struct RawVisitor<'a>(PhantomData<&'a ()>);

/// A field of the contract: set once (a key sent twice is left to Python, which keeps
/// the last), null as absent.
fn once<'de, A, T>(
    map: &mut A,
    slot: &mut Option<T>,
    seen: &mut u32,
    bit: u32,
) -> Result<(), A::Error>
where
    A: de::MapAccess<'de>,
    Option<T>: Deserialize<'de>,
{
    if *seen & bit != 0 {
        return Err(de::Error::custom("a key sent twice"));
    }
    *seen |= bit;
    *slot = map.next_value()?;
    Ok(())
}

impl<'de: 'a, 'a> Visitor<'de> for RawVisitor<'a> {
    type Value = Raw<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a raw record")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = Raw::default();
        let mut seen = 0u32;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let seen = &mut seen;
            match key.as_ref() {
                "well_code" => once(&mut map, &mut raw.well_code, seen, 1)?,
                "production_period" => once(&mut map, &mut raw.production_period, seen, 1 << 1)?,
                "field_code" => once(&mut map, &mut raw.field_code, seen, 1 << 2)?,
                "field_name" => once(&mut map, &mut raw.field_name, seen, 1 << 3)?,
                "well_reference" => once(&mut map, &mut raw.well_reference, seen, 1 << 4)?,
                "well_name" => once(&mut map, &mut raw.well_name, seen, 1 << 5)?,
                "days_on_production" => once(&mut map, &mut raw.days_on_production, seen, 1 << 6)?,
                "oil_production_kbd" => once(&mut map, &mut raw.oil_production_kbd, seen, 1 << 7)?,
                "gas_production_mmcfd" => {
                    once(&mut map, &mut raw.gas_production_mmcfd, seen, 1 << 8)?
                }
                "water_production_kbd" => {
                    once(&mut map, &mut raw.water_production_kbd, seen, 1 << 9)?
                }
                "liquids_production_kbd" => {
                    once(&mut map, &mut raw.liquids_production_kbd, seen, 1 << 10)?
                }
                "volumes" => once(&mut map, &mut raw.volumes, seen, 1 << 11)?,
                "data_source" => once(&mut map, &mut raw.data_source, seen, 1 << 12)?,
                "revision" => once(&mut map, &mut raw.revision, seen, 1 << 13)?,
                _ => {
                    if raw.extra.iter().any(|(name, _)| *name == key) {
                        return Err(de::Error::custom("a key sent twice"));
                    }
                    let value = map.next_value::<Extra<'a>>()?;
                    raw.extra.push((key, value));
                }
            }
        }
        if raw.well_code.is_none() || raw.production_period.is_none() {
            return Err(de::Error::custom("no well code or period"));
        }
        Ok(raw)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RawVisitor(PhantomData))
    }
}

/// A field the contract does not name, kept in ``extra``: scalars only (anything else is
/// left to Python).
pub enum Extra<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(Cow<'a, str>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volumes<'a> {
    #[serde(borrow)]
    pub oil: Option<Volume<'a>>,
    #[serde(borrow)]
    pub gas: Option<Volume<'a>>,
    #[serde(borrow)]
    pub water: Option<Volume<'a>>,
    #[serde(borrow)]
    pub liquids: Option<Volume<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume<'a> {
    #[serde(borrow)]
    pub value: Option<Num<'a>>,
    #[serde(borrow)]
    pub unit: Cow<'a, str>,
}

struct CodeVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for CodeVisitor<'a> {
    type Value = Code<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer within 64 bits or a string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Code::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Code::Int)
            .map_err(|_| E::custom("beyond 64 bits"))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Code::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Code::Text(Cow::Owned(v.to_owned())))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Code<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CodeVisitor(PhantomData))
    }
}

/// JSON integers beyond 2^53 are left to Python, which reads them exactly before
/// converting; below it every integer is a float already.
const EXACT_INTEGER: u64 = 1 << 53;

struct NumVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for NumVisitor<'a> {
    type Value = Num<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative number or a string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom("negative")),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        if v > EXACT_INTEGER {
            return Err(E::custom("integer beyond 2^53"));
        }
        Ok(Num::Value(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // -0.0 too: its sign is kept by some readers and not others
        if v.is_sign_negative() || !v.is_finite() {
            return Err(E::custom("negative or not finite"));
        }
        Ok(Num::Value(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Num::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Num::Text(Cow::Owned(v.to_owned())))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Num<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumVisitor(PhantomData))
    }
}

struct RevVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for RevVisitor<'a> {
    type Value = Rev<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer or a string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map(Rev::Value)
            .map_err(|_| E::custom("negative"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Rev::Value(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Rev::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Rev::Text(Cow::Owned(v.to_owned())))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Rev<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RevVisitor(PhantomData))
    }
}

struct ExtraVisitor<'a>(PhantomData<&'a ()>);

/// Floats beyond this may have been integers too long for 64 bits, which Python keeps as
/// integers.
const PLAIN_FLOAT: f64 = 1e18;

impl<'de: 'a, 'a> Visitor<'de> for ExtraVisitor<'a> {
    type Value = Extra<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON scalar")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Extra::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Extra::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Extra::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Extra::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // "-0" is read as -0.0 here and as the integer 0 by Python
        if (v == 0.0 && v.is_sign_negative()) || v.abs() >= PLAIN_FLOAT {
            return Err(E::custom("negative zero or a long integer"));
        }
        Ok(Extra::Float(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Extra::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Extra::Text(Cow::Owned(v.to_owned())))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Extra<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ExtraVisitor(PhantomData))
    }
}

/// A number sent as text, as the Python fast path reads it (``fastpath._number``), or
/// ``Err`` when that is in any doubt: only ASCII digits, '.', exponents and their signs,
/// which Rust and Python read alike (both round correctly); "" is no value. A leading
/// sign is left to Python ("-0" is a float of its own there).
pub fn number(text: &str, ceiling: f64) -> Result<Option<f64>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut previous = b'+';
    for b in text.bytes() {
        let exponent_sign = matches!(b, b'+' | b'-') && matches!(previous, b'e' | b'E');
        if !(b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E') || exponent_sign) {
            return Err(());
        }
        previous = b;
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=ceiling).contains(&v) => Ok(Some(v)),
        _ => Err(()),
    }
}

/// A quantity as a float (None: not sent, null or ""), held to ``ceiling``.
pub fn quantity(value: &Option<Num>, ceiling: f64) -> Result<Option<f64>, ()> {
    match value {
        None => Ok(None),
        Some(Num::Value(v)) if *v <= ceiling => Ok(Some(*v)),
        Some(Num::Value(_)) => Err(()),
        Some(Num::Text(text)) => number(text, ceiling),
    }
}
