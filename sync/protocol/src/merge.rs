//! Field-by-field merge of record payloads: a last-writer-wins map keyed by hybrid logical clock.
//!
//! Any kiosk of a facility may edit any of its records while offline, so two counters can change
//! the same patient at once. Instead of letting the newest *record* win (and silently dropping the
//! other counter's change to another field), every payload of a mergeable kind (`patient`,
//! `visit`) carries a clock per field, under [`CLOCK_KEY`]:
//!
//! ```json
//! { "name": "Sita Devi", "mobile": "9876543210",
//!   "_clock": { "name": [7301234567890123, "0190…device"], "mobile": [7301234567999999, "0190…"] } }
//! ```
//!
//! A field's clock is a [`Stamp`]: the HLC (packed, [`crate::Hlc::to_u64`]) of the write that set
//! it and the id of the device that wrote it. Merging two versions keeps, for every field, the
//! value with the greater stamp (ties on the stamp — which honest writers never produce — are
//! broken by the value's canonical JSON, so the result is still a function of the inputs). That is
//! a join on a product of totally ordered registers: commutative, associative and idempotent, so
//! every kiosk that has seen the same versions holds the same record, whatever order they came in
//! and however often they were replayed.
//!
//! A payload without clocks (written before this rule, or by a writer that does not know it) is
//! read as if every field carried the envelope's stamp ([`normalise`]).
//!
//! The functions here are pure (no I/O) so the kiosk, the server and the tests share one
//! definition; see `sync/PROTOCOL.md`, "Folding and merging at the kiosk".

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// The payload key holding the per-field clocks (`{field: [hlc, device]}`).
pub const CLOCK_KEY: &str = "_clock";

/// Who set a field, and when: the write's HLC and the writing device. Ordered by HLC, then device.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Stamp {
    /// Packed HLC of the write ([`crate::Hlc::to_u64`]).
    pub hlc: u64,
    /// The writing device's id (a UUID as text; any text orders).
    pub device: String,
}

impl Stamp {
    /// A stamp from its parts.
    pub fn new(hlc: u64, device: impl Into<String>) -> Self {
        Stamp {
            hlc,
            device: device.into(),
        }
    }

    fn to_json(&self) -> Value {
        Value::Array(vec![
            Value::from(self.hlc),
            Value::from(self.device.clone()),
        ])
    }

    fn from_json(v: &Value) -> Option<Stamp> {
        let a = v.as_array()?;
        match a.as_slice() {
            [h, d] => Some(Stamp::new(h.as_u64()?, d.as_str()?)),
            _ => None,
        }
    }
}

/// Why a payload cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// The payload is not a JSON object.
    #[error("a mergeable payload must be a JSON object")]
    NotAnObject,
}

/// The stamp of `field` in `payload`: its entry in [`CLOCK_KEY`], else `default` (a field of a
/// payload without clocks, or with a malformed entry, counts as written by the envelope).
pub fn stamp_of(payload: &Value, field: &str, default: &Stamp) -> Stamp {
    payload
        .get(CLOCK_KEY)
        .and_then(|c| c.get(field))
        .and_then(Stamp::from_json)
        .unwrap_or_else(|| default.clone())
}

/// `payload` with an explicit clock for every field (missing ones take `default`); clocks for
/// fields the payload does not have are dropped.
pub fn normalise(payload: &Value, default: &Stamp) -> Result<Value, MergeError> {
    let obj = payload.as_object().ok_or(MergeError::NotAnObject)?;
    let mut out = Map::new();
    let mut clock = Map::new();
    for (k, v) in obj {
        if k == CLOCK_KEY {
            continue;
        }
        clock.insert(k.clone(), stamp_of(payload, k, default).to_json());
        out.insert(k.clone(), v.clone());
    }
    out.insert(CLOCK_KEY.to_owned(), Value::Object(clock));
    Ok(Value::Object(out))
}

/// Orders two (stamp, value) candidates for one field: stamp first, then canonical JSON.
fn wins(a: (&Stamp, &Value), b: (&Stamp, &Value)) -> bool {
    match a.0.cmp(b.0) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => canonical(a.1) > canonical(b.1),
    }
}

/// A value's canonical JSON text (serde_json writes object keys in order), for breaking ties.
fn canonical(v: &Value) -> String {
    v.to_string()
}

/// Merges two normalised payloads (every field clocked, see [`normalise`]): for each field the
/// value with the greater stamp. Commutative, associative and idempotent.
pub fn merge(a: &Value, b: &Value) -> Result<Value, MergeError> {
    let (ao, bo) = (
        a.as_object().ok_or(MergeError::NotAnObject)?,
        b.as_object().ok_or(MergeError::NotAnObject)?,
    );
    let zero = Stamp::default();
    let mut out = Map::new();
    let mut clock = Map::new();
    let keys: std::collections::BTreeSet<&String> = ao
        .keys()
        .chain(bo.keys())
        .filter(|k| *k != CLOCK_KEY)
        .collect();
    for k in keys {
        let pick = match (ao.get(k), bo.get(k)) {
            (Some(av), Some(bv)) => {
                let (sa, sb) = (stamp_of(a, k, &zero), stamp_of(b, k, &zero));
                if wins((&sb, bv), (&sa, av)) {
                    (sb, bv)
                } else {
                    (sa, av)
                }
            }
            (Some(av), None) => (stamp_of(a, k, &zero), av),
            (None, Some(bv)) => (stamp_of(b, k, &zero), bv),
            (None, None) => continue,
        };
        clock.insert(k.clone(), pick.0.to_json());
        out.insert(k.clone(), pick.1.clone());
    }
    out.insert(CLOCK_KEY.to_owned(), Value::Object(clock));
    Ok(Value::Object(out))
}

/// Folds an incoming version into the state held so far (`None` before the first): the incoming
/// payload is normalised with its envelope's stamp, then merged.
pub fn merge_incoming(
    held: Option<&Value>,
    incoming: &Value,
    envelope: &Stamp,
) -> Result<Value, MergeError> {
    let inc = normalise(incoming, envelope)?;
    match held {
        Some(h) => merge(h, &inc),
        None => Ok(inc),
    }
}

/// A local write: `next` is the record's full new state (without clocks). Fields whose value
/// differs from `held` (or that `held` lacks) take `at`; the others keep their stamps. Fields
/// `held` has and `next` lacks are kept as they were.
pub fn stamp_local(held: Option<&Value>, next: &Value, at: &Stamp) -> Result<Value, MergeError> {
    let no = next.as_object().ok_or(MergeError::NotAnObject)?;
    let mut out = match held {
        Some(h) => h.as_object().ok_or(MergeError::NotAnObject)?.clone(),
        None => Map::new(),
    };
    let mut clock = out
        .remove(CLOCK_KEY)
        .and_then(|c| c.as_object().cloned())
        .unwrap_or_default();
    for (k, v) in no {
        if k == CLOCK_KEY {
            continue;
        }
        if out.get(k) != Some(v) || !clock.contains_key(k) {
            out.insert(k.clone(), v.clone());
            clock.insert(k.clone(), at.to_json());
        }
    }
    out.insert(CLOCK_KEY.to_owned(), Value::Object(clock));
    Ok(Value::Object(out))
}

/// `payload` without its clocks (the record as the domain sees it).
pub fn fields(payload: &Value) -> Map<String, Value> {
    let mut m = payload.as_object().cloned().unwrap_or_default();
    m.remove(CLOCK_KEY);
    m
}

/// The greatest stamp of any field (the version's own stamp), if it has fields.
pub fn latest(payload: &Value) -> Option<Stamp> {
    let zero = Stamp::default();
    fields(payload)
        .keys()
        .map(|k| stamp_of(payload, k, &zero))
        .max()
}

/// Which of the records in a cycle of merges is kept: the smallest id. Two counters that merged
/// X into Y and Y into X at once leave `X → Y → X`; every kiosk then keeps the same one, so the
/// merge has no cycle and the same result everywhere. `merged_into(id)` reads a record's merge
/// target; the answer for `start` is the record it finally lives in (itself when kept).
pub fn merge_root<F>(start: &str, merged_into: F) -> String
where
    F: Fn(&str) -> Option<String>,
{
    let mut path: Vec<String> = vec![start.to_owned()];
    loop {
        let Some(last) = path.last() else {
            return start.to_owned();
        };
        match merged_into(last) {
            None => return last.clone(),
            Some(next) => {
                if let Some(pos) = path.iter().position(|p| *p == next) {
                    // A cycle: path[pos..] are its members.
                    return path[pos..]
                        .iter()
                        .min()
                        .cloned()
                        .unwrap_or_else(|| next.clone());
                }
                if path.len() > 64 {
                    return path.iter().min().cloned().unwrap_or(next);
                }
                path.push(next);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(h: u64, d: &str) -> Stamp {
        Stamp::new(h, d)
    }

    #[test]
    fn later_field_wins_and_other_fields_survive() {
        let base = stamp_local(None, &json!({"name": "Sita", "mobile": null}), &s(1, "a")).unwrap();
        let at_a = stamp_local(
            Some(&base),
            &json!({"name": "Sita", "mobile": "98"}),
            &s(5, "a"),
        )
        .unwrap();
        let at_b = stamp_local(
            Some(&base),
            &json!({"name": "Seeta", "mobile": null}),
            &s(4, "b"),
        )
        .unwrap();
        let m1 = merge(&at_a, &at_b).unwrap();
        let m2 = merge(&at_b, &at_a).unwrap();
        assert_eq!(m1, m2);
        assert_eq!(m1["name"], "Seeta");
        assert_eq!(m1["mobile"], "98");
        assert_eq!(merge(&m1, &m1).unwrap(), m1, "idempotent");
    }

    #[test]
    fn ties_break_by_device_then_value() {
        let a = normalise(&json!({"x": 1}), &s(7, "aaa")).unwrap();
        let b = normalise(&json!({"x": 2}), &s(7, "bbb")).unwrap();
        assert_eq!(merge(&a, &b).unwrap()["x"], 2);
        assert_eq!(merge(&b, &a).unwrap()["x"], 2);
        let c = normalise(&json!({"x": 3}), &s(7, "bbb")).unwrap();
        assert_eq!(merge(&b, &c).unwrap(), merge(&c, &b).unwrap());
    }

    #[test]
    fn payloads_without_clocks_take_the_envelope_stamp() {
        let old = json!({"name": "Ram", "mobile": "1"});
        let held = stamp_local(None, &json!({"name": "Raam", "mobile": "1"}), &s(10, "k")).unwrap();
        let m = merge_incoming(Some(&held), &old, &s(20, "p")).unwrap();
        assert_eq!(
            m["name"], "Ram",
            "the envelope (20) is newer than the held field (10)"
        );
        let m = merge_incoming(Some(&held), &old, &s(5, "p")).unwrap();
        assert_eq!(m["name"], "Raam");
        assert_eq!(fields(&m).len(), 2);
        assert_eq!(latest(&m), Some(s(10, "k")));
        assert!(merge_incoming(None, &json!([1]), &s(1, "p")).is_err());
    }

    #[test]
    fn local_writes_stamp_only_what_changed() {
        let v1 = stamp_local(None, &json!({"a": 1, "b": 2}), &s(1, "k")).unwrap();
        let v2 = stamp_local(Some(&v1), &json!({"a": 1, "b": 3}), &s(2, "k")).unwrap();
        assert_eq!(stamp_of(&v2, "a", &Stamp::default()), s(1, "k"));
        assert_eq!(stamp_of(&v2, "b", &Stamp::default()), s(2, "k"));
    }

    #[test]
    fn merge_is_order_free_over_many_versions() {
        // Every permutation of five versions (with a replay) gives one result.
        let versions: Vec<Value> = (0..5u64)
            .map(|i| {
                normalise(
                    &json!({"f": i % 3, "g": format!("v{i}"), "h": i}),
                    &s((i * 7) % 5, &format!("d{}", i % 2)),
                )
                .unwrap()
            })
            .collect();
        let fold = |order: &[usize]| {
            order
                .iter()
                .fold(None::<Value>, |acc, &i| {
                    Some(match acc {
                        None => versions[i].clone(),
                        Some(a) => merge(&a, &versions[i]).unwrap(),
                    })
                })
                .unwrap()
        };
        let want = fold(&[0, 1, 2, 3, 4]);
        let mut order = vec![0, 1, 2, 3, 4];
        for _ in 0..120 {
            // Next permutation (lexicographic).
            let Some(i) = (0..order.len() - 1)
                .rev()
                .find(|&i| order[i] < order[i + 1])
            else {
                break;
            };
            let j = (i + 1..order.len())
                .rev()
                .find(|&j| order[j] > order[i])
                .unwrap();
            order.swap(i, j);
            order[i + 1..].reverse();
            let mut with_replay = order.clone();
            with_replay.push(order[0]);
            assert_eq!(fold(&with_replay), want, "{order:?}");
        }
    }

    #[test]
    fn a_merge_cycle_keeps_the_smallest_id() {
        let links = |id: &str| match id {
            "y" => Some("x".to_owned()),
            "x" => Some("y".to_owned()),
            "z" => Some("y".to_owned()),
            _ => None,
        };
        assert_eq!(merge_root("x", links), "x");
        assert_eq!(merge_root("y", links), "x");
        assert_eq!(merge_root("z", links), "x");
        assert_eq!(merge_root("w", links), "w");
        assert_eq!(merge_root("a", |_| Some("a".to_owned())), "a");
    }
}
