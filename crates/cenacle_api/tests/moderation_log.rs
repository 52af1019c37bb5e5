//! The public moderation log: what `moderation_log::record` keeps is read back per group and
//! instance-wide, newest first and paged; a replayed activity is logged once; a private
//! group's log is its readers' only; moderators' names are hidden when the instance says so.

mod common;

use axum::http::StatusCode;
use cenacle_core::{
    groups,
    moderation_log::{self, NewModAction},
    people, CoreError, ScopedFutureExt,
};
use cenacle_domain::{moderation::ModAction, Role};
use common::TestApp;
use serde_json::json;

/// Ids of a local group and of a person, as the use cases know them.
async fn ids(t: &TestApp, group: &str, person: &str) -> (i64, i64) {
    let mut conn = t.ctx.conn().await.unwrap();
    let group = groups::local_group(&mut conn, group).await.unwrap();
    let person = people::person_by_handle(&mut conn, &t.ctx, person)
        .await
        .unwrap();
    (group.id, person.id)
}

async fn record(t: &TestApp, entry: NewModAction) -> Result<Option<i64>, CoreError> {
    t.ctx
        .transaction(|conn| moderation_log::record(conn, entry).scope_boxed())
        .await
}

async fn make_group(t: &TestApp, token: &str, name: &str, visibility: &str) {
    let created = t
        .post(
            "/api/v1/groups",
            Some(token),
            json!({"name": name, "title": name, "visibility": visibility}),
        )
        .await;
    assert!(created.status.is_success(), "{}", created.json);
}

#[tokio::test]
async fn the_log_shows_each_action_once_newest_first_in_pages() {
    let t = TestApp::new().await;
    let admin = t.with_role("warden", Role::Admin).await;
    make_group(&t, &admin, "jardin", "public").await;
    let (group, warden) = ids(&t, "jardin", "warden").await;
    t.remote_person("lemmy.example", "troll").await;
    let (_, troll) = ids(&t, "jardin", "troll@lemmy.example").await;

    let removal = NewModAction {
        group_id: Some(group),
        moderator_id: Some(warden),
        target_person_id: Some(troll),
        reason: "  spam links  ".into(),
        ap_id: Some("https://lemmy.example/activities/delete/1".into()),
        ..NewModAction::new(ModAction::RemovePost)
    };
    assert!(record(&t, removal.clone()).await.unwrap().is_some());
    // The same activity relayed or replayed: logged once.
    assert_eq!(record(&t, removal).await.unwrap(), None);
    let expiry = chrono::Utc::now() + chrono::Duration::days(7);
    record(
        &t,
        NewModAction {
            group_id: Some(group),
            moderator_id: Some(warden),
            target_person_id: Some(troll),
            reason: "repeated spam".into(),
            expires_at: Some(expiry),
            ..NewModAction::new(ModAction::BanFromGroup)
        },
    )
    .await
    .unwrap();
    record(
        &t,
        NewModAction {
            group_id: Some(group),
            moderator_id: Some(warden),
            ..NewModAction::new(ModAction::LockPost)
        },
    )
    .await
    .unwrap();
    record(
        &t,
        NewModAction {
            moderator_id: Some(warden),
            target_instance: Some("spam.example".into()),
            reason: "spam farm".into(),
            ..NewModAction::new(ModAction::BlockInstance)
        },
    )
    .await
    .unwrap();

    let first = t
        .get("/api/v1/groups/jardin/moderation-log?limit=2", None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let items = first.json["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["lock_post", "ban_from_group"]);
    assert_eq!(items[1]["moderator"], "warden");
    assert_eq!(items[1]["target_person"], "troll@lemmy.example");
    assert_eq!(items[1]["reason"], "repeated spam");
    assert_eq!(items[1]["group"], "jardin");
    assert!(items[1]["expires_at"].is_string());
    let cursor = first.json["next_cursor"].as_str().expect("a second page");
    let second = t
        .get(
            &format!("/api/v1/groups/jardin/moderation-log?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    let items = second.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", second.json);
    assert_eq!(items[0]["action"], "remove_post");
    assert_eq!(items[0]["reason"], "spam links", "reasons are kept trimmed");
    assert!(second.json["next_cursor"].is_null());

    // The instance's log holds the instance-wide action only, and no group's.
    let instance = t.get("/api/v1/instance/moderation-log", None).await;
    assert_eq!(instance.status, StatusCode::OK, "{}", instance.json);
    let items = instance.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", instance.json);
    assert_eq!(items[0]["action"], "block_instance");
    assert_eq!(items[0]["target_instance"], "spam.example");
    assert!(items[0]["group"].is_null());
}

#[tokio::test]
async fn a_reason_longer_than_the_limit_is_refused_and_nothing_is_logged() {
    let t = TestApp::new().await;
    let admin = t.with_role("warden", Role::Admin).await;
    make_group(&t, &admin, "jardin", "public").await;
    let (group, warden) = ids(&t, "jardin", "warden").await;
    let refused = record(
        &t,
        NewModAction {
            group_id: Some(group),
            moderator_id: Some(warden),
            reason: "x".repeat(2001),
            ..NewModAction::new(ModAction::RemovePost)
        },
    )
    .await;
    assert!(
        matches!(refused, Err(CoreError::Moderation(_))),
        "{refused:?}"
    );
    let log = t.get("/api/v1/groups/jardin/moderation-log", None).await;
    assert_eq!(log.json["items"], json!([]));
}

#[tokio::test]
async fn a_private_groups_log_is_for_its_readers_and_names_can_be_hidden() {
    let t = TestApp::with(|s| s.moderation.show_moderator_names = false).await;
    let admin = t.with_role("warden", Role::Admin).await;
    let outsider = t.member("curieux").await;
    make_group(&t, &admin, "coffre", "private").await;
    let (group, warden) = ids(&t, "coffre", "warden").await;
    record(
        &t,
        NewModAction {
            group_id: Some(group),
            moderator_id: Some(warden),
            reason: "leak".into(),
            ..NewModAction::new(ModAction::RemovePost)
        },
    )
    .await
    .unwrap();

    for token in [None, Some(outsider.as_str())] {
        let hidden = t.get("/api/v1/groups/coffre/moderation-log", token).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.json);
    }
    let shown = t
        .get("/api/v1/groups/coffre/moderation-log", Some(&admin))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.json);
    let entry = &shown.json["items"][0];
    assert_eq!(entry["action"], "remove_post");
    assert_eq!(entry["reason"], "leak");
    assert!(entry["moderator"].is_null(), "names hidden: {entry}");
}
