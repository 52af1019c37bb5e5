//! Reports between servers: `Flag` (a report) and `Resolve` (its resolution), in the shapes
//! Lemmy 1.0 and Mastodon send and accept:
//! - Lemmy: `{type: Flag, actor: <person>, to: [<group>], object: <post or comment id>,
//!   summary: <reason>}`; resolved with `{type: Resolve, actor: <moderator>, to: [<group>],
//!   object: <the Flag, embedded>}` (LemmyNet/lemmy `crates/apub/activities/src/protocol/
//!   community/report.rs`, `resolve_report.rs`). Lemmy also reads Mastodon's array `object`.
//! - Mastodon: `{type: Flag, actor: <instance actor>, object: [<account>, <statuses>…],
//!   content: <comment>}` (mastodon `app/lib/activitypub/activity/flag.rb`).
//!
//! We send `object` as an array (the account, then the post or comment: both read it),
//! the reason in both `summary` and `content`, and `to` = the group. The reporter's name
//! leaves only when they agreed; otherwise our reporting actor (`/reporter`, a `Service`)
//! sends the Flag — never our instance actor, an `Application`, which Lemmy refuses.

use crate::vocabulary::{deserialize_audience, deserialize_id, deserialize_opt_string};
use activitypub_federation::kinds::activity::FlagType;
use cenacle_domain::reports::ReportStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    #[serde(rename = "type")]
    pub kind: FlagType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    /// One id (Lemmy) or several (Mastodon: the account, then its statuses).
    #[serde(deserialize_with = "deserialize_audience")]
    pub object: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    /// The reason, as Lemmy sends it.
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<String>,
    /// The reason, as Mastodon sends it.
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
}

impl Flag {
    /// The reporter's words: Lemmy's `summary`, else Mastodon's `content`.
    pub fn reason(&self) -> &str {
        self.summary
            .as_deref()
            .or(self.content.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ResolveType {
    Resolve,
}

/// Lemmy's resolution of a report: the moderator's `Resolve` of the `Flag`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolve {
    #[serde(rename = "type")]
    pub kind: ResolveType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    /// The Flag, embedded (as Lemmy sends it) or its id.
    pub object: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
    /// The moderator's note for the reporter (ours; Lemmy sends none and ignores it).
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<String>,
    /// `dismissed` when the moderator found nothing to act on (ours: `cenacle:outcome`).
    /// Absent, the report was resolved: Lemmy knows no other outcome, sends none and ignores
    /// this one, so a dismissal it receives closes its report as resolved.
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub outcome: Option<String>,
}

impl Resolve {
    /// The `outcome` of the `Resolve` of a report closed as `status`: the status's own name
    /// when dismissed, none when resolved (what Lemmy sends).
    pub fn outcome_of(status: ReportStatus) -> Option<String> {
        (status == ReportStatus::Dismissed).then(|| status.as_str().to_owned())
    }

    /// Whether the moderator dismissed the report (rather than acting on it).
    pub fn dismissed(&self) -> bool {
        self.outcome.as_deref().and_then(ReportStatus::parse) == Some(ReportStatus::Dismissed)
    }

    /// The id of the Flag it resolves.
    pub fn flag_id(&self) -> Option<&str> {
        match &self.object {
            Value::String(id) => Some(id),
            Value::Object(o) => o.get("id")?.as_str(),
            _ => None,
        }
    }

    /// The Flag, when embedded (Lemmy's is a new one, not the Flag it resolves: see
    /// `cenacle_core::reports::receive_resolution`).
    pub fn flag(&self) -> Option<Flag> {
        serde_json::from_value(self.object.clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lemmy_and_mastodon_flags_read_alike() {
        let lemmy: Flag = serde_json::from_value(json!({
            "actor": "http://ds9.lemmy.ml/u/lemmy_alpha",
            "to": ["http://enterprise.lemmy.ml/c/main"],
            "object": "http://enterprise.lemmy.ml/post/7",
            "summary": "report this post", "type": "Flag",
            "id": "http://ds9.lemmy.ml/activities/flag/98b0933f"
        }))
        .unwrap();
        assert_eq!(lemmy.object.len(), 1);
        assert_eq!(lemmy.reason(), "report this post");
        let mastodon: Flag = serde_json::from_value(json!({
            "id": "https://mastodon.example/0d8b", "type": "Flag",
            "actor": "https://mastodon.example/actor", "content": "Spam",
            "object": ["https://a.example/u/bob", "https://a.example/c/4"]
        }))
        .unwrap();
        assert_eq!(mastodon.object.len(), 2);
        assert_eq!(mastodon.reason(), "Spam");
        let resolve: Resolve = serde_json::from_value(json!({
            "actor": "http://ds9.lemmy.ml/u/lemmy_user", "to": ["http://enterprise.lemmy.ml/c/main"],
            "type": "Resolve", "id": "http://ds9.lemmy.ml/activities/resolve/1",
            "object": serde_json::to_value(&lemmy).unwrap()
        }))
        .unwrap();
        assert_eq!(
            resolve.flag_id(),
            Some("http://ds9.lemmy.ml/activities/flag/98b0933f")
        );
        // Lemmy's, with no outcome, resolves.
        assert!(!resolve.dismissed());
    }

    #[test]
    fn the_outcome_sent_is_the_outcome_read() {
        for (status, dismissed) in [
            (ReportStatus::Resolved, false),
            (ReportStatus::Dismissed, true),
        ] {
            let outcome = Resolve::outcome_of(status);
            let resolve: Resolve = serde_json::from_value(json!({
                "type": "Resolve", "id": "https://a.example/activities/resolve/1",
                "actor": "https://a.example/u/admin", "object": "https://b.example/flag/1",
                "outcome": outcome,
            }))
            .unwrap();
            assert_eq!(resolve.dismissed(), dismissed, "{status:?}");
        }
        assert_eq!(
            Resolve::outcome_of(ReportStatus::Dismissed).as_deref(),
            Some("dismissed"),
            "the name other Cénacles read"
        );
    }
}
