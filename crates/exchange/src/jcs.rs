//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Signatures and hashes in casetrail are taken over these bytes, so that an
//! implementation in any language reproduces them: object members sorted by
//! the UTF-16 code units of their names, no insignificant whitespace, strings
//! escaped as ECMAScript's `JSON.stringify` does, numbers in ECMAScript's
//! shortest round-trip form.

use serde_json::{Map, Number, Value};

/// The canonical bytes of a JSON value.
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value);
    out
}

/// Parses `bytes` as JSON and returns its canonical form.
pub fn canonicalize(bytes: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let value: Value = serde_json::from_slice(bytes)?;
    Ok(canonical_bytes(&value))
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(out, members),
    }
}

fn write_object(out: &mut Vec<u8>, members: &Map<String, Value>) {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    // RFC 8785 §3.2.3: sort by UTF-16 code units, not by UTF-8 bytes.
    sorted.sort_by(|(left, _), (right, _)| utf16_order(left, right));
    out.push(b'{');
    for (position, (name, item)) in sorted.into_iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write_string(out, name);
        out.push(b':');
        write_value(out, item);
    }
    out.push(b'}');
}

fn write_number(out: &mut Vec<u8>, number: &Number) {
    if let Some(integer) = number.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(integer).as_bytes());
    } else if let Some(integer) = number.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(integer).as_bytes());
    } else if let Some(float) = number.as_f64() {
        let mut buffer = ryu_js::Buffer::new();
        out.extend_from_slice(buffer.format(float).as_bytes());
    }
}

/// The order of two member names by their UTF-16 code units. UTF-8 bytes
/// sort as code points do, which is the same order unless a name holds a
/// character past U+FFFF (a surrogate pair sorts below U+E000..U+FFFF in
/// UTF-16): only then are the names compared as UTF-16.
pub(crate) fn utf16_order(left: &str, right: &str) -> std::cmp::Ordering {
    let beyond_bmp = |text: &str| text.bytes().any(|byte| byte >= 0xF0);
    if beyond_bmp(left) || beyond_bmp(right) {
        left.encode_utf16().cmp(right.encode_utf16())
    } else {
        left.as_bytes().cmp(right.as_bytes())
    }
}

/// Appends `text` as a canonical JSON string (quoted and escaped).
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    // Copy each run of bytes that need no escape in one piece: only `"`,
    // `\` and the controls below U+0020 are escaped (every byte of a
    // multi-byte UTF-8 character is >= 0x80 and is copied as it is).
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0C => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            control if control < 0x20 => {
                out.extend_from_slice(&bytes[start..index]);
                out.extend_from_slice(format!("\\u{control:04x}").as_bytes());
                start = index + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        out.extend_from_slice(escape);
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let canonical = canonicalize(input.as_bytes()).expect("valid JSON");
        assert_eq!(String::from_utf8(canonical).expect("utf-8"), expected, "input: {input}");
    }

    #[test]
    fn sorts_members_and_drops_whitespace() {
        check(r#"{ "b": 1, "a": [ true, null ] }"#, r#"{"a":[true,null],"b":1}"#);
        check(r#"{"z":{"y":2,"x":1}}"#, r#"{"z":{"x":1,"y":2}}"#);
    }

    #[test]
    fn rfc8785_sorting_example_uses_utf16_order() {
        // RFC 8785 §3.2.3 example: the property names in their required order.
        let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let canonical = String::from_utf8(canonicalize(input.as_bytes()).expect("json")).expect("utf8");
        let order: Vec<&str> = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh",
        ]
        .to_vec();
        let mut last = 0;
        for name in order {
            let position = canonical.find(name).expect("present");
            assert!(position >= last, "{name} out of order in {canonical}");
            last = position;
        }
    }

    #[test]
    fn escapes_like_ecmascript() {
        check(r#"["\u0001\u001f\n\t\"\\/€"]"#, "[\"\\u0001\\u001f\\n\\t\\\"\\\\/€\"]");
        check(r#"["\u2028"]"#, "[\"\u{2028}\"]");
    }

    #[test]
    fn escapes_between_plain_runs_and_multibyte_characters() {
        check(r#"["Әкімдік \"A\"\n\u0000жол\\"]"#, "[\"Әкімдік \\\"A\\\"\\n\\u0000жол\\\\\"]");
        check(r#"["\u001f", "", "\"\"", "plain"]"#, "[\"\\u001f\",\"\",\"\\\"\\\"\",\"plain\"]");
    }

    #[test]
    fn names_past_the_basic_plane_sort_as_utf16() {
        // U+1F600 is a surrogate pair (0xD83D ...), below U+FB33 in UTF-16
        // though above it as a code point; ASCII names sort as bytes.
        check(r#"{"\ufb33":1,"\ud83d\ude00":2,"b":3,"a":4}"#, "{\"a\":4,\"b\":3,\"\u{1F600}\":2,\"\u{FB33}\":1}");
    }

    #[test]
    fn numbers_in_shortest_ecmascript_form() {
        check("[1.0, -0.0, 1e21, 1e-7, 0.000001, 123456789012, 4.50]", "[1,0,1e+21,1e-7,0.000001,123456789012,4.5]");
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        let once = canonicalize(br#"{"b":"\u00e9","a":{"d":[3,2.5],"c":false}}"#).expect("json");
        assert_eq!(canonicalize(&once).expect("json"), once);
    }
}
