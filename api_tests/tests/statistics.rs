//! Issue 9: the statistics changes that actions append (`member_stats_pending`) are folded
//! into the day rows by the running server's own loop — the other tests call
//! `member_stats_fold` themselves, and would pass with the loop never spawned.

use cenacle_api_tests::{
    database::{connect, execute, number},
    eventually, Hosts, Instance,
};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// The fold runs every 5 s: six beats and more.
const DEADLINE: Duration = Duration::from_secs(30);

/// [`number`] on a connection of its own, for checks polled by [`eventually`].
async fn number_in(alpha: &Instance, query: &str) -> i64 {
    number(&mut connect(alpha).await, query).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_folds_an_answer_and_a_like_into_the_day_rows() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "aide", "Aide").await;
    let marie = alpha.member("marie").await;
    let pierre = alpha.member("pierre").await;
    let mut conn = connect(&alpha).await;
    let id_of = |name: &str| format!("(SELECT id FROM person WHERE username = '{name}' AND local)");
    let (marie_id, pierre_id) = (
        number(&mut conn, &id_of("marie")).await,
        number(&mut conn, &id_of("pierre")).await,
    );
    let group_id = number(
        &mut conn,
        "SELECT id FROM community_group WHERE name = 'aide' AND local",
    )
    .await;

    // The day rows are held while the changes are made and looked at: the server's fold may
    // claim them but cannot write them, so a beat falling just after the like cannot fold
    // them before the test has seen them waiting.
    let mut holder = connect(&alpha).await;
    execute(&mut holder, "BEGIN").await;
    execute(
        &mut holder,
        "LOCK TABLE member_stats_day IN SHARE ROW EXCLUSIVE MODE",
    )
    .await;

    // marie asks; pierre answers her and likes her question.
    let question = alpha
        .create_post(&marie, "aide", "question", "Comment faire ?")
        .await;
    alpha.create_answer(&pierre, &question, "Ainsi.").await;
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{}/vote", question.id),
            Some(&pierre),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let pending = |who: i64, what: &str| {
        format!(
            "SELECT count(*) FROM member_stats_pending \
             WHERE person_id = {who} AND group_id = {group_id} AND {what}"
        )
    };
    assert_eq!(
        number(&mut conn, &pending(marie_id, "threads = 1")).await,
        1
    );
    assert_eq!(number(&mut conn, &pending(marie_id, "likes = 1")).await, 1);
    assert_eq!(
        number(
            &mut conn,
            &pending(pierre_id, &format!("replies = 1 AND helped = {marie_id}"))
        )
        .await,
        1
    );
    let day_rows = format!("SELECT count(*) FROM member_stats_day WHERE group_id = {group_id}");
    assert_eq!(number(&mut conn, &day_rows).await, 0);
    execute(&mut holder, "COMMIT").await;

    // Nobody calls the fold here: only the server's loop empties the table.
    eventually("the server to fold the changes", DEADLINE, || async {
        (number_in(&alpha, "SELECT count(*) FROM member_stats_pending").await == 0).then_some(())
    })
    .await;
    // Summed over days: a run across midnight (UTC) puts the like on a day of its own.
    let folded = |table: &str, who: i64, what: &str| {
        format!(
            "SELECT COALESCE(SUM({what}), 0)::bigint FROM {table} \
             WHERE person_id = {who} AND group_id = {group_id} AND tag = ''"
        )
    };
    for (who, what, expected) in [
        (marie_id, "threads", 1),
        (marie_id, "likes", 1),
        (pierre_id, "replies", 1),
        (pierre_id, "first_replies", 1),
    ] {
        assert_eq!(
            number(&mut conn, &folded("member_stats_day", who, what)).await,
            expected,
            "{what} of {who}, folded"
        );
        // What readers read counts each change once, folded or not.
        assert_eq!(
            number(&mut conn, &folded("member_stats_rows", who, what)).await,
            expected,
            "{what} of {who}, as read"
        );
    }
    assert_eq!(
        number(
            &mut conn,
            &format!(
                "SELECT count(*) FROM member_stats_day WHERE person_id = {pierre_id} \
                 AND group_id = {group_id} AND tag = '' AND {marie_id} = ANY (helped)"
            )
        )
        .await,
        1,
        "pierre helped marie"
    );
}
