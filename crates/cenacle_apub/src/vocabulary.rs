//! How ActivityPub documents are read and written here: tolerant readers for references,
//! audiences and text that other servers shape differently, the Public collection, and the
//! ids of our own activities.

use crate::FedData;
use serde::{Deserialize, Deserializer};
use url::Url;

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Reads a reference that may be an IRI or an embedded object with an `id`.
pub fn deserialize_id<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ref {
        Iri(Url),
        Object { id: Url },
    }
    Ok(match Ref::deserialize(d)? {
        Ref::Iri(url) | Ref::Object { id: url } => url,
    })
}

/// An optional reference, IRI or embedded object (`audience`); anything unreadable is None.
pub fn deserialize_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Url::parse(&s).ok(),
        Some(serde_json::Value::Object(o)) => o
            .get("id")
            .and_then(|v| v.as_str())
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    })
}

/// Reads `to`/`cc`: absent, one IRI, or many.
pub fn deserialize_audience<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Url>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Url),
        Many(Vec<serde_json::Value>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => vec![],
        Some(OneOrMany::One(url)) => vec![url],
        Some(OneOrMany::Many(values)) => values
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Url::parse(&s).ok(),
                serde_json::Value::Object(o) => {
                    o.get("id")?.as_str().and_then(|s| Url::parse(s).ok())
                }
                _ => None,
            })
            .collect(),
    })
}

/// A property that may be one object or an array of them.
pub fn deserialize_values<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<serde_json::Value>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Array(items)) => items,
        Some(one @ serde_json::Value::Object(_)) => vec![one],
        _ => vec![],
    })
}

/// A property that may be a string, an array of strings, or be missing: read as an optional
/// first string (e.g. `name`, `summary` from servers that send language maps as arrays).
pub fn deserialize_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .find_map(|v| v.as_str().map(str::to_owned)),
        _ => None,
    })
}

/// A new activity id on this instance.
pub fn new_activity_id(data: &FedData, kind: &str) -> Url {
    Url::parse(&format!(
        "{}/activities/{kind}/{}",
        data.base(),
        uuid::Uuid::new_v4()
    ))
    .expect("valid url")
}
