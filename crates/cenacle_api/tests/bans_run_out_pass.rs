//! The pass over bans that ran out (`cenacle_apub::follows::follow_again_after_bans_ran_out`,
//! issue 13) claims them a batch per transaction and goes on while a batch comes back full:
//! when more bans ran out than a batch holds, one pass handles every one of them, not only the
//! first batch (the others would otherwise wait a beat each, a hundred at a time). What each
//! ban owes, one at a time, is in cenacle_core's `bans_run_out`; the Follow reaching the
//! group's server, in api_tests' `moderation_federation`.

mod common;

use cenacle_apub::follows::{follow_again_after_bans_ran_out, BANS_RUN_OUT_BATCH};
use cenacle_core::ScopedFutureExt;
use common::TestApp;

/// The group elsewhere our members were banned from.
const GROUP: &str = "https://other.example/c/entraide";

#[tokio::test]
async fn one_pass_handles_more_bans_run_out_than_a_batch_holds() {
    let t = TestApp::new().await;
    let fed = cenacle_apub::Federation::start(t.ctx.clone())
        .await
        .unwrap();
    let group = cenacle_db::actors::RemoteGroup {
        ap_id: GROUP.into(),
        name: "entraide".into(),
        title: "Entraide".into(),
        description: String::new(),
        inbox_url: format!("{GROUP}/inbox"),
        shared_inbox_url: Some("https://other.example/inbox".into()),
        followers_url: Some(format!("{GROUP}/followers")),
        public_key_pem: "unused here".into(),
        instance_host: "other.example".into(),
        visibility: "public".into(),
    };
    let group = &group;
    t.ctx
        .transaction(|conn| {
            async move { cenacle_core::actors::store_remote_group(conn, group).await }.scope_boxed()
        })
        .await
        .unwrap();

    // Two full batches and a few more: members of ours following the group, each banned from
    // it for a while, the ban run out an hour ago (past any grace). Set-based, as the rows a
    // `Block` and a follow leave: a member's API registration each would take minutes.
    let banned = 2 * BANS_RUN_OUT_BATCH + 7;
    let base = t.ctx.settings.public_base();
    t.sql(&format!(
        "INSERT INTO person (username, local, ap_id, inbox_url) \
         SELECT 'runout' || n, true, '{base}/u/runout' || n, '{base}/u/runout' || n || '/inbox' \
         FROM generate_series(1, {banned}) n"
    ))
    .await;
    t.sql(&format!(
        "INSERT INTO follow (target_ap_id, follower_ap_id, follower_inbox, state, \
           follow_activity_id) \
         SELECT '{GROUP}', p.ap_id, p.inbox_url, 'accepted', p.ap_id || '/first-follow' \
         FROM person p WHERE p.username LIKE 'runout%'"
    ))
    .await;
    t.sql(&format!(
        "INSERT INTO group_ban (group_id, person_id, reason, expires_at) \
         SELECT g.id, p.id, 'spam', now() - interval '1 hour' \
         FROM community_group g, person p \
         WHERE g.ap_id = '{GROUP}' AND p.username LIKE 'runout%'"
    ))
    .await;

    // One pass: every ban handled, each member's Follow queued again for the group's inbox and
    // their follow pending until its Accept.
    assert_eq!(
        follow_again_after_bans_ran_out(&fed).await.unwrap() as i64,
        banned,
        "one pass, every batch"
    );
    let handled = "SELECT count(*) AS n FROM group_ban WHERE expiry_handled_at IS NOT NULL";
    assert_eq!(t.count(handled).await, banned, "every ban marked handled");
    let renewed = format!(
        "SELECT count(*) AS n FROM follow WHERE target_ap_id = '{GROUP}' \
         AND state = 'pending' AND follow_activity_id NOT LIKE '%/first-follow'"
    );
    assert_eq!(t.count(&renewed).await, banned, "every follow asked again");
    let queued = format!(
        "SELECT count(*) AS n FROM delivery d JOIN outgoing_activity a ON a.id = d.activity_id \
         WHERE d.inbox_url = '{GROUP}/inbox' AND a.body LIKE '%\"type\":\"Follow\"%'"
    );
    assert_eq!(t.count(&queued).await, banned, "a Follow queued for each");

    // Each once: the next pass finds nothing, and queues nothing more.
    assert_eq!(follow_again_after_bans_ran_out(&fed).await.unwrap(), 0);
    assert_eq!(t.count(&queued).await, banned);
}
