//! RFC 8785 bytes of a typed value, written by a serde `Serializer` straight
//! from the value: the same bytes as serialising it to a
//! `serde_json::Value` and canonicalising that ([`crate::jcs`]), without
//! building the tree of maps and strings in between.
//!
//! Objects are the only part that needs buffering: the members' values are
//! written one after another to the object's buffer, and the members are
//! sorted by name when the object ends. A name given twice keeps its last
//! value, as inserting into a JSON map does.

use std::borrow::Cow;
use std::fmt::Display;
use std::ops::Range;

use serde::ser::{self, Serialize};

use crate::jcs::{utf16_order, write_string};

/// Why a value has no JSON form (a map key that is not a string).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CanonicalError(String);

impl ser::Error for CanonicalError {
    fn custom<T: Display>(message: T) -> Self {
        CanonicalError(message.to_string())
    }
}

type Result<T = ()> = std::result::Result<T, CanonicalError>;

/// The canonical bytes of `value`, which must serialise to a JSON object,
/// with the string members `extra` added to it (an `extra` name replaces
/// the value's own member of that name).
pub fn object_with_members<T: Serialize + ?Sized>(value: &T, extra: &[(&str, &str)]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut seed = Object::default();
    for (name, text) in extra {
        let start = seed.values.len();
        write_string(&mut seed.values, text);
        seed.members.push((Cow::Owned((*name).to_owned()), start..seed.values.len()));
    }
    value.serialize(Writer { out: &mut out, seed: Some(seed) })?;
    Ok(out)
}

/// An object's members so far: each one's name and where its value's bytes
/// are in `values`.
#[derive(Default)]
struct Object {
    members: Vec<(Cow<'static, str>, Range<usize>)>,
    values: Vec<u8>,
}

/// Writes one value; `seed` is set only for the top level of
/// [`object_with_members`], which must be an object.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    seed: Option<Object>,
}

impl<'a> Writer<'a> {
    fn nested(out: &'a mut Vec<u8>) -> Self {
        Writer { out, seed: None }
    }

    /// A scalar where an object was required.
    fn scalar(self, write: impl FnOnce(&mut Vec<u8>)) -> Result {
        if self.seed.is_some() {
            return Err(CanonicalError("the value did not serialise to a JSON object".into()));
        }
        write(self.out);
        Ok(())
    }

    fn members(self) -> Members<'a> {
        let object = self.seed.unwrap_or_default();
        Members { out: self.out, seeded: object.members.len(), object, variant: false, name: None }
    }

    fn integer(self, integer: impl itoa::Integer) -> Result {
        self.scalar(|out| out.extend_from_slice(itoa::Buffer::new().format(integer).as_bytes()))
    }

    fn float(self, float: f64) -> Result {
        // serde_json keeps a non-finite float as null.
        self.scalar(|out| {
            if float.is_finite() {
                out.extend_from_slice(ryu_js::Buffer::new().format_finite(float).as_bytes());
            } else {
                out.extend_from_slice(b"null");
            }
        })
    }

    /// `{"variant":…}`, the form serde_json gives an enum variant with data.
    fn variant_member(&mut self, variant: &str) {
        self.out.push(b'{');
        write_string(self.out, variant);
        self.out.push(b':');
    }
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Items<'a>;
    type SerializeMap = Members<'a>;
    type SerializeStruct = Members<'a>;
    type SerializeStructVariant = Members<'a>;

    fn serialize_bool(self, value: bool) -> Result {
        self.scalar(|out| out.extend_from_slice(if value { b"true" } else { b"false" }))
    }
    fn serialize_i8(self, value: i8) -> Result {
        self.integer(value)
    }
    fn serialize_i16(self, value: i16) -> Result {
        self.integer(value)
    }
    fn serialize_i32(self, value: i32) -> Result {
        self.integer(value)
    }
    fn serialize_i64(self, value: i64) -> Result {
        self.integer(value)
    }
    fn serialize_i128(self, value: i128) -> Result {
        self.integer(value)
    }
    fn serialize_u8(self, value: u8) -> Result {
        self.integer(value)
    }
    fn serialize_u16(self, value: u16) -> Result {
        self.integer(value)
    }
    fn serialize_u32(self, value: u32) -> Result {
        self.integer(value)
    }
    fn serialize_u64(self, value: u64) -> Result {
        self.integer(value)
    }
    fn serialize_u128(self, value: u128) -> Result {
        self.integer(value)
    }
    fn serialize_f32(self, value: f32) -> Result {
        self.float(f64::from(value))
    }
    fn serialize_f64(self, value: f64) -> Result {
        self.float(value)
    }
    fn serialize_char(self, value: char) -> Result {
        self.scalar(|out| write_string(out, value.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, value: &str) -> Result {
        self.scalar(|out| write_string(out, value))
    }
    fn serialize_bytes(self, value: &[u8]) -> Result {
        // serde_json writes bytes as an array of numbers.
        let mut items = self.serialize_seq(Some(value.len()))?;
        for byte in value {
            ser::SerializeSeq::serialize_element(&mut items, byte)?;
        }
        ser::SerializeSeq::end(items)
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.scalar(|out| out.extend_from_slice(b"null"))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        let mut members = self.members();
        ser::SerializeMap::serialize_entry(&mut members, variant, value)?;
        ser::SerializeMap::end(members)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Items<'a>> {
        if self.seed.is_some() {
            return Err(CanonicalError("the value did not serialise to a JSON object".into()));
        }
        self.out.push(b'[');
        Ok(Items { out: self.out, first: true, close: b"]" })
    }
    fn serialize_tuple(self, len: usize) -> Result<Items<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Items<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Items<'a>> {
        if self.seed.is_some() {
            return Err(CanonicalError("the value did not serialise to a JSON object".into()));
        }
        self.variant_member(variant);
        self.out.push(b'[');
        Ok(Items { out: self.out, first: true, close: b"]}" })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Members<'a>> {
        Ok(self.members())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Members<'a>> {
        Ok(self.members())
    }
    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Members<'a>> {
        if self.seed.is_some() {
            return Err(CanonicalError("the value did not serialise to a JSON object".into()));
        }
        self.variant_member(variant);
        Ok(Members { out: self.out, object: Object::default(), seeded: 0, variant: true, name: None })
    }
}

/// An array's items, written as they come.
struct Items<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    close: &'static [u8],
}

impl Items<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Writer::nested(self.out))
    }
    fn close(self) -> Result {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl ser::SerializeSeq for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTuple for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Items<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

/// An object being written: its members are collected in an [`Object`],
/// then sorted and written when the object ends.
struct Members<'a> {
    out: &'a mut Vec<u8>,
    object: Object,
    /// The first `seeded` members were added by [`object_with_members`].
    seeded: usize,
    /// A struct variant's object, inside `{"variant":…}`.
    variant: bool,
    name: Option<String>,
}

impl Members<'_> {
    fn member<T: Serialize + ?Sized>(&mut self, name: Cow<'static, str>, value: &T) -> Result {
        let Object { members, values } = &mut self.object;
        let start = values.len();
        value.serialize(Writer::nested(values))?;
        members.push((name, start..values.len()));
        Ok(())
    }

    fn close(self) -> Result {
        let Members { out, object: Object { members, values }, seeded, variant, .. } = self;
        let mut order: Vec<usize> = (0..members.len()).collect();
        // Stable: members of one name stay in the order given, added first.
        order.sort_by(|&left, &right| utf16_order(&members[left].0, &members[right].0));
        out.push(b'{');
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() && members[order[end]].0 == members[order[start]].0 {
                end += 1;
            }
            // An added member wins; else the last value given, as a JSON map
            // keeps it.
            let chosen = if order[start] < seeded { order[start] } else { order[end - 1] };
            if start > 0 {
                out.push(b',');
            }
            write_string(out, &members[chosen].0);
            out.push(b':');
            out.extend_from_slice(&values[members[chosen].1.clone()]);
            start = end;
        }
        out.push(b'}');
        if variant {
            out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeMap for Members<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.name = Some(key.serialize(KeyWriter)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        let name = self.name.take().ok_or_else(|| CanonicalError("a map value came without its key".into()))?;
        self.member(Cow::Owned(name), value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeStruct for Members<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result {
        self.member(Cow::Borrowed(name), value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeStructVariant for Members<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result {
        self.member(Cow::Borrowed(name), value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

/// A map key: JSON allows only strings; numbers and booleans become their
/// text, as serde_json does.
struct KeyWriter;

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = CanonicalError;
    type SerializeSeq = ser::Impossible<String, CanonicalError>;
    type SerializeTuple = ser::Impossible<String, CanonicalError>;
    type SerializeTupleStruct = ser::Impossible<String, CanonicalError>;
    type SerializeTupleVariant = ser::Impossible<String, CanonicalError>;
    type SerializeMap = ser::Impossible<String, CanonicalError>;
    type SerializeStruct = ser::Impossible<String, CanonicalError>;
    type SerializeStructVariant = ser::Impossible<String, CanonicalError>;

    fn serialize_bool(self, value: bool) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_i8(self, value: i8) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_i16(self, value: i16) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_i32(self, value: i32) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_i64(self, value: i64) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_u8(self, value: u8) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_u16(self, value: u16) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_u32(self, value: u32) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_u64(self, value: u64) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_f32(self, _value: f32) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_f64(self, _value: f64) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_char(self, value: char) -> Result<String> {
        Ok(value.to_string())
    }
    fn serialize_str(self, value: &str) -> Result<String> {
        Ok(value.to_owned())
    }
    fn serialize_bytes(self, _value: &[u8]) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<String> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(not_a_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(not_a_key())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(not_a_key())
    }
}

fn not_a_key() -> CanonicalError {
    CanonicalError("a map key must be a string".into())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;
    use crate::jcs::canonical_bytes;

    /// The reference: through `serde_json::Value`, then canonicalised.
    fn through_value<T: Serialize>(value: &T, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut value = serde_json::to_value(value).unwrap();
        let object = value.as_object_mut().unwrap();
        for (name, text) in extra {
            object.insert((*name).to_owned(), serde_json::Value::String((*text).to_owned()));
        }
        canonical_bytes(&value)
    }

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Pair(u8, i64),
        Box { z: i32, a: Option<String> },
    }

    #[derive(Serialize)]
    struct Nested {
        zeta: Vec<Shape>,
        #[serde(rename = "é")]
        accent: &'static str,
        alpha: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        absent: Option<u32>,
        map: BTreeMap<u16, bool>,
        bytes: &'static [u8],
        text: String,
        at: &'static str,
        #[serde(flatten)]
        more: BTreeMap<String, i64>,
    }

    fn sample() -> Nested {
        Nested {
            zeta: vec![
                Shape::Dot,
                Shape::Circle(1.5),
                Shape::Circle(f64::NAN),
                Shape::Pair(7, -3),
                Shape::Box { z: 1, a: None },
            ],
            accent: "\u{1F600}",
            alpha: None,
            absent: None,
            map: BTreeMap::from([(10, true), (2, false)]),
            bytes: b"\x00\xff",
            text: "Әкімдік \"A\"\n\u{0001}".into(),
            at: "the value's own",
            more: BTreeMap::from([("b".to_owned(), 1), ("\u{FB33}".to_owned(), 2)]),
        }
    }

    #[test]
    fn the_bytes_are_those_of_the_value_tree_canonicalised() {
        let extra = [("type", "nested"), ("at", "2026-12-05T10:00:00+05:00")];
        let direct = object_with_members(&sample(), &extra).unwrap();
        assert_eq!(String::from_utf8(direct).unwrap(), String::from_utf8(through_value(&sample(), &extra)).unwrap());
        assert_eq!(object_with_members(&sample(), &[]).unwrap(), through_value(&sample(), &[]));
    }

    #[test]
    fn an_added_member_replaces_the_values_own() {
        let bytes = object_with_members(&sample(), &[("at", "added")]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains(r#""at":"added""#), "{text}");
        assert!(!text.contains("the value's own"), "{text}");
    }

    #[test]
    fn a_value_that_is_not_an_object_is_refused() {
        assert!(object_with_members(&[1, 2], &[]).is_err());
        assert!(object_with_members("text", &[]).is_err());
        assert!(object_with_members(&BTreeMap::from([(vec![1], 1)]), &[]).is_err());
    }
}
