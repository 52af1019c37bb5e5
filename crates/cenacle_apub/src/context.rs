//! The JSON-LD `@context` of everything we serve and send.

use serde_json::{json, Value};

/// ActivityStreams, the security vocabulary (publicKey), and our extensions: `cenacle:` terms,
/// schema.org's `sc:` (acceptedAnswer), and the Lemmy/Mastodon terms peers look for.
pub fn context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "cenacle": "https://cenacle.dev/ns#",
            "sc": "http://schema.org/",
            "lemmy": "https://join-lemmy.org/ns#",
            "as": "https://www.w3.org/ns/activitystreams#",
            "toot": "http://joinmastodon.org/ns#",
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "featured": {"@id": "toot:featured", "@type": "@id"},
            "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
            "visibility": "cenacle:visibility",
            "postKind": "cenacle:postKind",
            "ideaStatus": "cenacle:ideaStatus",
            "accepted": "cenacle:accepted",
            "outcome": "cenacle:outcome",
            "acceptedAnswer": {"@id": "sc:acceptedAnswer", "@type": "@id"},
            "sensitive": "as:sensitive",
            "CommunityPostTag": "lemmy:CommunityPostTag",
            "reputation": "cenacle:reputation",
            "rank": "cenacle:rank",
            "champion": {"@id": "cenacle:champion", "@container": "@set"},
            "championOf": {"@id": "cenacle:championOf", "@type": "@id"},
            "championSince": {"@id": "cenacle:championSince", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}
        }
    ])
}

/// Wraps a document with our context.
pub fn with_context<T: serde::Serialize>(
    inner: T,
) -> activitypub_federation::protocol::context::WithContext<T> {
    activitypub_federation::protocol::context::WithContext::new(inner, context())
}
