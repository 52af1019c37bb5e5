//! What the tests write through an instance's API before federating it: groups, posts,
//! answers. Each asserts its 201, so a test's setup never goes on from a refusal.

use crate::{eventually, Instance};
use serde_json::json;
use std::time::Duration;

/// A post or comment of an instance: its row id and ActivityPub id.
#[derive(Clone, Debug)]
pub struct Content {
    pub id: i64,
    pub ap_id: String,
}

impl Instance {
    /// `token` follows the group `handle` (`!name@host`, or its URL) and waits, up to
    /// `deadline`, until the group's instance has accepted the follow.
    pub async fn follow_group(&self, token: &str, handle: &str, deadline: Duration) {
        let (status, body) = self
            .post("/api/v1/follows", Some(token), json!({"target": handle}))
            .await;
        assert_eq!(status, 202, "{body}");
        let target = body["target"].as_str().unwrap().to_owned();
        eventually(
            &format!("{} to be accepted", self.name),
            deadline,
            || async {
                let (_, follows) = self.get("/api/v1/follows", Some(token)).await;
                follows
                    .as_array()?
                    .iter()
                    .find(|f| f["target"] == target.as_str() && f["state"] == "accepted")
                    .map(|_| ())
            },
        )
        .await;
    }

    /// A public group `name` titled `title`, created by `token` (a community manager); its
    /// ActivityPub id.
    pub async fn create_group(&self, token: &str, name: &str, title: &str) -> String {
        let (status, group) = self
            .post(
                "/api/v1/groups",
                Some(token),
                json!({"name": name, "title": title, "description": "Entraide"}),
            )
            .await;
        assert_eq!(status, 201, "{group}");
        group["ap_id"].as_str().unwrap().to_owned()
    }

    /// A post of `kind` (question, idea, note) in `group`, its body derived from its title.
    pub async fn create_post(&self, token: &str, group: &str, kind: &str, title: &str) -> Content {
        let (status, body) = self
            .post(
                &format!("/api/v1/groups/{group}/posts"),
                Some(token),
                json!({"kind": kind, "title": title, "body": format!("{title} — details")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        Content {
            id: body["post"]["id"].as_i64().unwrap(),
            ap_id: body["post"]["ap_id"].as_str().unwrap().to_owned(),
        }
    }

    /// A top-level comment on `post` (an answer, on a question).
    pub async fn create_answer(&self, token: &str, post: &Content, text: &str) -> Content {
        let (status, body) = self
            .post(
                &format!("/api/v1/posts/{}/comments", post.id),
                Some(token),
                json!({"body": text}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        Content {
            id: body["id"].as_i64().unwrap(),
            ap_id: body["ap_id"].as_str().unwrap().to_owned(),
        }
    }
}
