//! Strict JSON reading for every file zkguard trusts (model files, quantized models, proof and
//! verifying-key artifacts): a key repeated in one object is refused, naming its path (serde
//! would keep the last value silently, so one file could be read two ways), and the non-JSON
//! numbers Python's `json` writes (`NaN`, `Infinity`) are named as such instead of serde's bare
//! "expected value".

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

/// Why a text is not strict JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at `{path}`: {message}")]
pub struct StrictJsonError {
    /// Path of the offending value (`.` for the document, `model.layers[1].bias` ...).
    pub path: String,
    /// What is wrong, with line and column.
    pub message: String,
}

/// Checks that `text` is one JSON document without repeated keys, and parses it.
pub fn parse(text: &str) -> Result<serde_json::Value, StrictJsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let checked = UniqueKeys { path: String::new() }.deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = checked {
        let message = describe(text, &e);
        // Our own errors carry their path in the message: "duplicate key `a.b` ...".
        let path = message
            .strip_prefix("duplicate key `")
            .and_then(|rest| rest.split('`').next())
            .map_or_else(|| ".".to_string(), str::to_string);
        return Err(StrictJsonError { path, message });
    }
    serde_json::from_str(text).map_err(|e| StrictJsonError { path: ".".into(), message: describe(text, &e) })
}

/// serde_json's message, naming `NaN` / `Infinity` when that is what stopped it.
pub fn describe(text: &str, e: &serde_json::Error) -> String {
    if e.classify() == serde_json::error::Category::Syntax && e.line() > 0 {
        if let Some(line) = text.lines().nth(e.line() - 1) {
            // The column points at the offending token (or just past a leading minus sign).
            let col = e.column().saturating_sub(1);
            for start in [col, col + 1, col.saturating_sub(1)] {
                let at = line.get(start..).unwrap_or("");
                let at = at.strip_prefix('-').unwrap_or(at);
                if let Some(word) = ["NaN", "Infinity"].into_iter().find(|w| at.starts_with(w)) {
                    let negative = line.get(..start).unwrap_or("").trim_end().ends_with('-')
                        || line.get(start..).is_some_and(|a| a.starts_with('-'));
                    return format!(
                        "{}{word} is not a number in JSON (line {}, column {}): every value must be a finite number",
                        if negative { "-" } else { "" },
                        e.line(),
                        e.column()
                    );
                }
            }
        }
    }
    e.to_string()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct UniqueKeys {
    path: String,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq.next_element_seed(UniqueKeys { path: format!("{}[{i}]", self.path) })?.is_some() {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&self.path, &key);
            if !seen.insert(key) {
                return Err(A::Error::custom(format!(
                    "duplicate key `{path}`: a key may appear once per object (the file could be read two ways)"
                )));
            }
            map.next_value_seed(UniqueKeys { path })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_path() {
        assert!(parse(r#"{"a": 1, "b": {"c": [1, {"d": 2}]}}"#).is_ok());
        let err = parse(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert_eq!(err.path, "a");
        let err = parse(r#"{"decision": {"threshold": 0.5, "threshold": 9}}"#).unwrap_err();
        assert_eq!(err.path, "decision.threshold", "{err}");
        let err = parse(r#"{"m": {"layers": [{"w": 1}, {"w": 1, "w": 2}]}}"#).unwrap_err();
        assert_eq!(err.path, "m.layers[1].w", "{err}");
        assert!(err.to_string().contains("duplicate key `m.layers[1].w`"), "{err}");
        // The same key in two different objects is fine.
        assert!(parse(r#"[{"a": 1}, {"a": 2}]"#).is_ok());
    }

    #[test]
    fn nan_and_infinity_are_named() {
        for (text, word) in
            [("{\"x\": NaN}", "NaN"), ("{\"x\": [1, Infinity]}", "Infinity"), ("{\"x\": -Infinity}", "-Infinity")]
        {
            let err = parse(text).unwrap_err();
            assert!(err.message.starts_with(&format!("{word} is not a number in JSON")), "{text}: {err}");
        }
        assert!(parse("{\"x\": nope}").unwrap_err().message.contains("expected"));
        assert!(parse("{} {}").is_err(), "trailing content");
    }
}
