//! The mail queue against a real PostgreSQL: what the worker's unparking of mails and an
//! admin's retry of parked mails may and may not undo of each other.

use cenacle_db::{
    mail::{
        self, DroppedMail, FailureRecorded, NewMail, ParkedMail, RetryOutcome, RetryParked,
        StillWanted,
    },
    testing::fresh_database,
};
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{BigInt, Int4, Nullable, Text, Timestamptz},
    QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// The kinds' rules as the core names them (these mails have no person: all are wanted).
const RULES: StillWanted<'static> = StillWanted {
    always_sent: &[
        "verify_email",
        "password_reset",
        "confirm_new_email",
        "email_changed",
    ],
    to_any_address: &["confirm_new_email", "email_changed"],
    link_kinds: &["verify_email", "password_reset", "confirm_new_email"],
    link_purposes: &["verify_email", "reset_password", "change_email"],
    notification_kind: "notifications",
    // As `cenacle_core::notifications::mailed_at_once_table` names them, for the kinds these
    // tests use: a reply is mailed at once unless set otherwise, a mention too, a like only
    // when so set. (This crate cannot call the core's: the core's test
    // `the_rows_the_store_tests_copy_are_the_tables` holds these very rows against the table,
    // so a change of the rule breaks it rather than leaving this copy stating another.)
    at_once_kinds: &["reply", "reply", "mention", "mention", "like"],
    at_once_preferences: &[
        None,
        Some("email_immediate"),
        None,
        Some("email_immediate"),
        Some("email_immediate"),
    ],
    digest_kind: "digest",
    digest_cadences: &["daily", "weekly"],
    digest_deliveries: &["email_daily", "email_weekly"],
    // A day and a week, in seconds (`cenacle_core::mail_rules`'s `digest_period`).
    digest_periods: &[86_400, 604_800],
};

/// How many deleted mails a retry names, as the core asks.
const NAMED: i64 = 100;

/// A row's id.
#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// How many went back, none dropped.
fn retried(n: usize) -> RetryOutcome {
    RetryOutcome {
        retried: n,
        dropped: 0,
        dropped_mails: vec![],
    }
}

#[derive(Debug, PartialEq, QueryableByName)]
struct Row {
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    parked_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
}

async fn row(conn: &mut AsyncPgConnection, id: i64) -> Row {
    diesel::sql_query("SELECT attempts, parked_at, last_error FROM mail_queue WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(id)
        .get_result(conn)
        .await
        .unwrap()
}

async fn queue(conn: &mut AsyncPgConnection, to: &str) {
    mail::insert_mail(
        conn,
        &NewMail {
            person_id: None,
            kind: "password_reset",
            to_address: to,
            subject: "Reset your password",
            text_body: "token",
            html_body: "<p>token</p>",
            unsubscribe_url: None,
            message_id: "<test@example.org>",
            topic: None,
            notification_id: None,
            onboarding_rule_id: None,
            quoted_post_ids: None,
            quoted_notification_ids: None,
        },
    )
    .await
    .unwrap();
}

/// A worker claims the one due mail and records a permanent refusal of it: it is parked.
async fn claimed_and_parked(conn: &mut AsyncPgConnection, error: &str) -> ParkedMail {
    let claimed = mail::claim_mails(conn, 1, 60.0, &[], &RULES)
        .await
        .unwrap()
        .mails;
    assert_eq!(claimed.len(), 1, "one mail due");
    let recorded = mail::mail_failed(conn, claimed[0].id, claimed[0].locked_until, None, error)
        .await
        .unwrap();
    match recorded {
        FailureRecorded::Parked(parked) => parked,
        other => panic!("not parked: {other:?}"),
    }
}

/// The worker parks a mail, then judges the refusal to be about our sender and unparks it; but
/// meanwhile an admin put it back in line and it was parked again (or it is still waiting):
/// the worker's unpark, stale, must leave the mail as the admin's retry left it. Only the
/// mail as the worker parked it goes back.
#[tokio::test]
async fn a_stale_unpark_leaves_a_mail_an_admin_retried_and_that_was_parked_again() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    queue(&mut conn, "ivy@example.org").await;
    let first = claimed_and_parked(&mut conn, "550 first refusal").await;

    // The admin puts it back; it waits, not parked, its attempts reset.
    let retried = mail::retry_parked_mails(&mut conn, RetryParked::One(first.id), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(retried, self::retried(1));
    let waiting = row(&mut conn, first.id).await;
    assert_eq!((waiting.attempts, waiting.parked_at), (0, None));
    // The worker's unpark of the mail as it parked it does not count back an attempt of the
    // admin's retry (nor overwrite its error).
    let unparked = mail::unpark_mails(&mut conn, &[first], Some("the sender was refused"))
        .await
        .unwrap();
    assert_eq!(unparked, 0, "a mail no longer parked is not unparked");
    assert_eq!(row(&mut conn, first.id).await, waiting);

    // Tried again, refused again: parked again, later.
    let second = claimed_and_parked(&mut conn, "550 second refusal").await;
    assert_eq!(second.id, first.id);
    assert_ne!(second.parked_at, first.parked_at, "two parkings, two times");
    let parked_again = row(&mut conn, first.id).await;
    assert_eq!(parked_again.attempts, 1);
    let unparked = mail::unpark_mails(&mut conn, &[first], Some("the sender was refused"))
        .await
        .unwrap();
    assert_eq!(
        unparked, 0,
        "the stale unpark leaves the second parking alone"
    );
    assert_eq!(row(&mut conn, first.id).await, parked_again);

    // The unpark of the parking as it stands does put it back.
    let unparked = mail::unpark_mails(&mut conn, &[second], Some("the sender was refused"))
        .await
        .unwrap();
    assert_eq!(unparked, 1);
    assert_eq!(
        row(&mut conn, first.id).await,
        Row {
            attempts: 0,
            parked_at: None,
            last_error: Some("the sender was refused".into()),
        }
    );
}

/// "Retry all" puts back every parked mail, or those to one recipient domain (without case);
/// never a mail that waits or is being sent.
#[tokio::test]
async fn retrying_parked_mails_by_domain_or_all_puts_back_only_parked_ones() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let mut parked = Vec::new();
    for to in ["a@Example.org", "b@other.example", "c@example.org.evil"] {
        queue(&mut conn, to).await;
        parked.push(claimed_and_parked(&mut conn, "550 refused").await);
    }
    queue(&mut conn, "waiting@example.org").await;

    let to_domain = |d| RetryParked::ToDomain(Some(d));
    assert_eq!(
        mail::retry_parked_mails(&mut conn, to_domain("EXAMPLE.ORG"), &RULES, NAMED)
            .await
            .unwrap(),
        retried(1),
        "only a@Example.org: not the waiting mail, nor a longer domain"
    );
    assert_eq!(row(&mut conn, parked[0].id).await.parked_at, None);
    assert!(row(&mut conn, parked[2].id).await.parked_at.is_some());
    assert_eq!(
        mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, NAMED)
            .await
            .unwrap(),
        retried(2)
    );
    assert!(mail::parked_mails(&mut conn, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        mail::retry_parked_mails(&mut conn, RetryParked::One(parked[0].id), &RULES, NAMED)
            .await
            .unwrap(),
        retried(0),
        "a mail already back in line is not parked"
    );
}

/// An active member with a verified address `{name}@example.org`; their person id.
async fn member(conn: &mut AsyncPgConnection, name: &str) -> i64 {
    diesel::sql_query(format!(
        "WITH p AS (INSERT INTO person (username, local) VALUES ('{name}', true) RETURNING id) \
         INSERT INTO local_user (person_id, password_hash, email, email_verified_at) \
         SELECT id, 'x', '{name}@example.org', now() FROM p RETURNING person_id AS id"
    ))
    .get_result::<Id>(conn)
    .await
    .unwrap()
    .id
}

/// Queues a mail of `kind` about `topic` to the member's address and parks it at once (as a
/// worker would after a permanent refusal); its id.
async fn parked(conn: &mut AsyncPgConnection, person: i64, kind: &str, topic: Option<&str>) -> i64 {
    parked_quoting(conn, person, kind, topic, None).await
}

/// [`parked`], a digest quoting the section posts and telling of the notifications `quoted`
/// names (`None`: queued before digests named them).
async fn parked_quoting(
    conn: &mut AsyncPgConnection,
    person: i64,
    kind: &str,
    topic: Option<&str>,
    quoted: Option<(&[i64], &[i64])>,
) -> i64 {
    let address: String = {
        #[derive(QueryableByName)]
        struct Address {
            #[diesel(sql_type = Text)]
            email: String,
        }
        diesel::sql_query("SELECT email FROM local_user WHERE person_id = $1")
            .bind::<BigInt, _>(person)
            .get_result::<Address>(conn)
            .await
            .unwrap()
            .email
    };
    mail::insert_mail(
        conn,
        &NewMail {
            person_id: Some(person),
            kind,
            to_address: &address,
            subject: "Subject",
            text_body: "body",
            html_body: "<p>body</p>",
            unsubscribe_url: None,
            message_id: "<test@example.org>",
            topic,
            notification_id: None,
            onboarding_rule_id: None,
            quoted_post_ids: quoted.map(|(posts, _)| posts),
            quoted_notification_ids: quoted.map(|(_, notifications)| notifications),
        },
    )
    .await
    .unwrap();
    diesel::sql_query(
        "UPDATE mail_queue SET parked_at = now(), attempts = 1, last_error = '554 refused' \
         WHERE id = (SELECT max(id) FROM mail_queue) RETURNING id",
    )
    .get_result::<Id>(conn)
    .await
    .unwrap()
    .id
}

fn dropped(mails: &[(i64, &str)]) -> Vec<DroppedMail> {
    mails
        .iter()
        .map(|(id, kind)| DroppedMail {
            id: *id,
            kind: (*kind).to_owned(),
        })
        .collect()
}

/// A password reset parked while its link is live goes back; one to a member suspended since
/// is deleted instead (a suspended account is not to be let back in by a link mailed weeks
/// later), said by id and kind, and gone from the list of parked mails.
#[tokio::test]
async fn a_parked_reset_of_a_member_suspended_since_is_dropped_on_retry() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let ana = member(&mut conn, "ana").await;
    let ben = member(&mut conn, "ben").await;
    conn.batch_execute(
        "INSERT INTO account_token (person_id, purpose, token_hash, email, expires_at) \
         SELECT person_id, 'reset_password', convert_to(email, 'UTF8'), email, \
           now() + interval '1 hour' FROM local_user",
    )
    .await
    .unwrap();
    let ana_reset = parked(&mut conn, ana, "password_reset", None).await;
    let ben_reset = parked(&mut conn, ben, "password_reset", None).await;

    conn.batch_execute(&format!(
        "UPDATE local_user SET status = 'suspended' WHERE person_id = {ben}"
    ))
    .await
    .unwrap();
    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::One(ben_reset), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 0,
            dropped: 1,
            dropped_mails: dropped(&[(ben_reset, "password_reset")]),
        }
    );
    let listed: Vec<i64> = mail::parked_mails(&mut conn, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        listed,
        [ana_reset],
        "ben's reset is gone, ana's still parked"
    );
    // ana is not suspended: her reset goes back.
    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::One(ana_reset), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(outcome, retried(1));
}

/// The preference that decided a mail is asked again when it is retried parked: a
/// notification whose kind the member no longer has mailed at once, or a digest of a cadence
/// they no longer get (no kind set to it any more), is deleted; those still wanted (by
/// default, or as set), and mails queued before their topic was kept, go back. The outcome
/// names the deleted ones by id and kind, oldest first.
#[tokio::test]
async fn retrying_asks_again_the_preference_that_decided_a_notification_or_a_digest() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    // Mailed at once when queued: a reply and a mention (by default), a like (as set); in
    // the daily and the weekly digests (as set).
    conn.batch_execute(&format!(
        "INSERT INTO notification_preference (person_id, kind, delivery) VALUES \
           ({cleo}, 'like', 'email_immediate'), ({cleo}, 'badge_awarded', 'email_daily'), \
           ({cleo}, 'idea_status', 'email_weekly')"
    ))
    .await
    .unwrap();
    let reply = parked(&mut conn, cleo, "notifications", Some("reply")).await;
    let mention = parked(&mut conn, cleo, "notifications", Some("mention")).await;
    let like = parked(&mut conn, cleo, "notifications", Some("like")).await;
    let unnamed = parked(&mut conn, cleo, "notifications", None).await;
    let daily = parked(&mut conn, cleo, "digest", Some("daily")).await;
    let weekly = parked(&mut conn, cleo, "digest", Some("weekly")).await;

    // Meanwhile cleo hears of mentions in the app only, and gets no daily digest any more
    // (the one kind in it moved to the app).
    conn.batch_execute(&format!(
        "INSERT INTO notification_preference (person_id, kind, delivery) VALUES \
           ({cleo}, 'mention', 'in_app'); \
         UPDATE notification_preference SET delivery = 'in_app' \
           WHERE person_id = {cleo} AND kind = 'badge_awarded'"
    ))
    .await
    .unwrap();

    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 4,
            dropped: 2,
            dropped_mails: dropped(&[(mention, "notifications"), (daily, "digest")]),
        }
    );
    let waiting: Vec<i64> = diesel::sql_query(
        "SELECT id FROM mail_queue WHERE parked_at IS NULL AND attempts = 0 ORDER BY id",
    )
    .load::<Id>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect();
    assert_eq!(waiting, [reply, like, unnamed, weekly]);
}

/// The member `person` gets both digests (a kind set to each cadence).
async fn gets_both_digests(conn: &mut AsyncPgConnection, person: i64) {
    conn.batch_execute(&format!(
        "INSERT INTO notification_preference (person_id, kind, delivery) VALUES \
           ({person}, 'badge_awarded', 'email_daily'), ({person}, 'idea_status', 'email_weekly')"
    ))
    .await
    .unwrap();
}

/// The ids of the mails waiting (not parked), oldest first.
async fn waiting(conn: &mut AsyncPgConnection) -> Vec<i64> {
    diesel::sql_query("SELECT id FROM mail_queue WHERE parked_at IS NULL ORDER BY id")
        .load::<Id>(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// A parked digest older than its cadence's period is deleted on retry (the next digest of
/// that cadence is due by then): a daily one a day and an hour old, a weekly one eight days
/// old; a daily one 23 hours old and a weekly one six days old go back, as does a digest
/// queued before its cadence was kept (its period unknown). The members' subscription is the
/// same for all: only their age decides.
#[tokio::test]
async fn retrying_drops_a_parked_digest_older_than_its_cadence() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    gets_both_digests(&mut conn, cleo).await;
    let mut digests = Vec::new();
    for (cadence, age) in [
        (Some("daily"), "23 hours"),
        (Some("daily"), "25 hours"),
        (Some("weekly"), "6 days"),
        (Some("weekly"), "8 days"),
        (None, "8 days"),
    ] {
        let id = parked(&mut conn, cleo, "digest", cadence).await;
        conn.batch_execute(&format!(
            "UPDATE mail_queue SET created_at = now() - interval '{age}' WHERE id = {id}"
        ))
        .await
        .unwrap();
        digests.push(id);
    }

    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 3,
            dropped: 2,
            dropped_mails: dropped(&[(digests[1], "digest"), (digests[3], "digest")]),
        }
    );
    assert_eq!(
        waiting(&mut conn).await,
        [digests[0], digests[2], digests[4]]
    );
}

/// What a digest quotes is asked only where it was recorded: a digest quoting a post or
/// telling of a notification that no longer exists is deleted on retry; one that quotes none
/// (empty lists) goes back, as does one queued before digests named what they quote.
#[tokio::test]
async fn retrying_drops_a_parked_digest_quoting_content_gone_and_asks_no_older_one() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    gets_both_digests(&mut conn, cleo).await;
    let daily = Some("daily");
    let no_post = parked_quoting(&mut conn, cleo, "digest", daily, Some((&[i64::MAX], &[]))).await;
    let no_notification =
        parked_quoting(&mut conn, cleo, "digest", daily, Some((&[], &[i64::MAX]))).await;
    let quoting_none = parked_quoting(&mut conn, cleo, "digest", daily, Some((&[], &[]))).await;
    let unasked = parked_quoting(&mut conn, cleo, "digest", daily, None).await;

    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 2,
            dropped: 2,
            dropped_mails: dropped(&[(no_post, "digest"), (no_notification, "digest")]),
        }
    );
    assert_eq!(waiting(&mut conn).await, [quoting_none, unasked]);
}

/// A retry deleting more mails than it may name counts them all and names the oldest only,
/// saying so.
#[tokio::test]
async fn a_retry_names_at_most_the_oldest_mails_it_deletes_and_counts_them_all() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let dora = member(&mut conn, "dora").await;
    let mut resets = Vec::new();
    for _ in 0..3 {
        resets.push(parked(&mut conn, dora, "password_reset", None).await);
    }
    // No live link: none is wanted.
    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, 2)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 0,
            dropped: 3,
            dropped_mails: dropped(&[(resets[0], "password_reset"), (resets[1], "password_reset")]),
        }
    );
    assert!(outcome.dropped_mails_truncated());
    assert!(!retried(1).dropped_mails_truncated());
}

/// A group of ours named `name`, `public` or `private`, with `members`; its id.
async fn group(conn: &mut AsyncPgConnection, name: &str, visibility: &str, members: &[i64]) -> i64 {
    let id = diesel::sql_query(format!(
        "INSERT INTO community_group \
           (name, title, local, ap_id, inbox_url, public_key_pem, instance_host, visibility) \
         VALUES ('{name}', '{name}', true, 'https://alpha.example/c/{name}', \
           'https://alpha.example/c/{name}/inbox', 'unused', 'alpha.example', '{visibility}') \
         RETURNING id"
    ))
    .get_result::<Id>(conn)
    .await
    .unwrap()
    .id;
    for person in members {
        conn.batch_execute(&format!(
            "INSERT INTO group_membership (group_id, person_id) VALUES ({id}, {person})"
        ))
        .await
        .unwrap();
    }
    id
}

/// A question `title` by `author` in `group`, published; its id.
async fn question(conn: &mut AsyncPgConnection, group: i64, author: i64, title: &str) -> i64 {
    diesel::sql_query(
        "INSERT INTO post (group_id, author_id, kind, title, ap_id, local) \
         VALUES ($1, $2, 'question', $3, 'https://alpha.example/p/' || md5($3), true) \
         RETURNING id",
    )
    .bind::<BigInt, _>(group)
    .bind::<BigInt, _>(author)
    .bind::<Text, _>(title)
    .get_result::<Id>(conn)
    .await
    .unwrap()
    .id
}

/// A notification of `kind` to `recipient` about `about` (its column, `post_id` or
/// `contest_id`, and the id), saying `detail`, written `ago` (an SQL interval) before now;
/// its id.
async fn notification(
    conn: &mut AsyncPgConnection,
    recipient: i64,
    kind: &str,
    (column, about): (&str, i64),
    detail: Option<&str>,
    ago: &str,
) -> i64 {
    diesel::sql_query(format!(
        "INSERT INTO notification (recipient_id, kind, {column}, detail, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, now() - interval '{ago}', now() - interval '{ago}') \
         RETURNING id"
    ))
    .bind::<BigInt, _>(recipient)
    .bind::<Text, _>(kind)
    .bind::<BigInt, _>(about)
    .bind::<Nullable<Text>, _>(detail)
    .get_result::<Id>(conn)
    .await
    .unwrap()
    .id
}

/// A digest's notice names a contest by its title, as a notification mail does: retried
/// parked, the digest is wanted only while that notification still shows its member the
/// title, by the very condition a parked notification mail is asked (a contest over a private
/// group shows its title to that group's members only). cleo and dora, in the private group
/// vault, both placed in a contest over it; their daily digests tell of it and quote no post;
/// both are parked. cleo then leaves the group: "retry all" deletes her digest, named, and
/// puts back dora's, who stayed.
#[tokio::test]
async fn retrying_drops_a_parked_digest_naming_a_contest_of_a_private_group_its_member_left() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    let dora = member(&mut conn, "dora").await;
    let vault = group(&mut conn, "vault", "private", &[cleo, dora]).await;
    let contest = diesel::sql_query(
        "INSERT INTO contest (title, starts_at, ends_at, group_ids) \
         VALUES ('Vault cup', now() - interval '7 days', now(), ARRAY[$1]) RETURNING id",
    )
    .bind::<BigInt, _>(vault)
    .get_result::<Id>(&mut conn)
    .await
    .unwrap()
    .id;
    let mut digests = Vec::new();
    for person in [cleo, dora] {
        gets_both_digests(&mut conn, person).await;
        let about = ("contest_id", contest);
        let placed = notification(
            &mut conn,
            person,
            "contest_result",
            about,
            Some("1"),
            "1 hour",
        )
        .await;
        let quoted: (&[i64], &[i64]) = (&[], &[placed]);
        let digest = parked_quoting(&mut conn, person, "digest", Some("daily"), Some(quoted));
        digests.push(digest.await);
    }

    conn.batch_execute(&format!(
        "DELETE FROM group_membership WHERE group_id = {vault} AND person_id = {cleo}"
    ))
    .await
    .unwrap();
    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 1,
            dropped: 1,
            dropped_mails: dropped(&[(digests[0], "digest")]),
        }
    );
    assert_eq!(waiting(&mut conn).await, [digests[1]]);
}

/// A digest's notice tells the news of its notification's time, gathered up to a day or a
/// week later: a post taken down in between is not quoted by a retry of the digest, as it is
/// not by a notification mail's (taken down "since" the notification, not since the digest
/// was queued). cleo's daily digest tells of a reply to her question, which a moderator
/// removed an hour after the reply and an hour before the digest was queued; dora's tells of
/// the removal of her own question, written with it (that removal is her news). Both are
/// parked: "retry all" deletes cleo's, named, and puts back dora's.
#[tokio::test]
async fn retrying_drops_a_parked_digest_telling_of_a_post_taken_down_after_its_notification() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    let dora = member(&mut conn, "dora").await;
    let coffee = group(&mut conn, "coffee", "public", &[cleo, dora]).await;
    let kettle = question(&mut conn, coffee, cleo, "Which kettle?").await;
    let stale = question(&mut conn, coffee, dora, "Stale beans?").await;
    let reply = notification(
        &mut conn,
        cleo,
        "reply",
        ("post_id", kettle),
        None,
        "2 hours",
    )
    .await;
    let removal = notification(
        &mut conn,
        dora,
        "moderation",
        ("post_id", stale),
        Some("removed"),
        "1 hour",
    )
    .await;
    // Both questions removed at the instant dora's notice was written, an hour ago.
    conn.batch_execute(&format!(
        "UPDATE post SET removed_at = (SELECT created_at FROM notification WHERE id = {removal}) \
         WHERE id IN ({kettle}, {stale})"
    ))
    .await
    .unwrap();
    let mut digests = Vec::new();
    for (person, told) in [(cleo, reply), (dora, removal)] {
        gets_both_digests(&mut conn, person).await;
        let quoted: (&[i64], &[i64]) = (&[], &[told]);
        let digest = parked_quoting(&mut conn, person, "digest", Some("daily"), Some(quoted));
        digests.push(digest.await);
    }

    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 1,
            dropped: 1,
            dropped_mails: dropped(&[(digests[0], "digest")]),
        }
    );
    assert_eq!(waiting(&mut conn).await, [digests[1]]);
}

/// A post of a digest's sections is asked again by the rule that picked it: still up, still
/// published, in a group its member still belongs to. Of four digests quoting one question
/// each, retried parked: the one whose question is still as it was goes back; the one whose
/// question went back to its group's approval queue, the one whose member left the (public)
/// group, and the one whose question was deleted are deleted, named.
#[tokio::test]
async fn retrying_asks_a_parked_digests_section_posts_by_the_rule_that_picked_them() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    let dora = member(&mut conn, "dora").await;
    gets_both_digests(&mut conn, cleo).await;
    let coffee = group(&mut conn, "coffee", "public", &[cleo]).await;
    let tea = group(&mut conn, "tea", "public", &[cleo]).await;
    let standing = question(&mut conn, coffee, dora, "Which grinder?").await;
    let pending = question(&mut conn, coffee, dora, "Which beans?").await;
    let left = question(&mut conn, tea, dora, "Which kettle?").await;
    let deleted = question(&mut conn, coffee, dora, "Which cups?").await;
    let mut digests = Vec::new();
    for post in [standing, pending, left, deleted] {
        let quoted: (&[i64], &[i64]) = (&[post], &[]);
        let digest = parked_quoting(&mut conn, cleo, "digest", Some("daily"), Some(quoted));
        digests.push(digest.await);
    }

    conn.batch_execute(&format!(
        "UPDATE post SET approval = 'pending' WHERE id = {pending}; \
         DELETE FROM group_membership WHERE group_id = {tea} AND person_id = {cleo}; \
         UPDATE post SET deleted_at = now() WHERE id = {deleted}"
    ))
    .await
    .unwrap();
    let outcome = mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES, NAMED)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 1,
            dropped: 3,
            dropped_mails: dropped(&[
                (digests[1], "digest"),
                (digests[2], "digest"),
                (digests[3], "digest"),
            ]),
        }
    );
    assert_eq!(waiting(&mut conn).await, [digests[0]]);
}

/// Queues a mail of `kind` about `topic` to the member's address, telling of `notification`
/// (a notification mail) or of the notifications `told` (a digest); its id.
async fn queued_about(
    conn: &mut AsyncPgConnection,
    person: i64,
    (kind, topic): (&str, &str),
    notification: Option<i64>,
    told: Option<&[i64]>,
) -> i64 {
    diesel::sql_query(
        "INSERT INTO mail_queue (person_id, kind, to_address, subject, text_body, html_body, \
           message_id, topic, notification_id, quoted_post_ids, quoted_notification_ids) \
         SELECT person_id, $2, email, 'Subject', 'body', '<p>body</p>', '<test@example.org>', \
           $3, $4, CASE WHEN $5::bigint[] IS NOT NULL THEN '{}'::bigint[] END, $5 \
         FROM local_user WHERE person_id = $1 RETURNING id",
    )
    .bind::<BigInt, _>(person)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(topic)
    .bind::<Nullable<BigInt>, _>(notification)
    .bind::<Nullable<diesel::sql_types::Array<BigInt>>, _>(told)
    .get_result::<Id>(conn)
    .await
    .unwrap()
    .id
}

/// A worker's claim, as the core makes it, of every mail due.
async fn claim(conn: &mut AsyncPgConnection) -> mail::Claim {
    mail::claim_mails(conn, 10, 60.0, &[], &RULES)
        .await
        .unwrap()
}

/// A mail tried again by a worker after a failed attempt is asked again whether it is still
/// wanted, as an admin's retry of a parked one is: a retry hours later must not quote to its
/// member what they may no longer read. cleo's and dora's notification mails of a reply to a
/// question in the private group vault, and cleo's daily digest telling of it, fail once each
/// (a temporary refusal: tried again at once); cleo then leaves the vault. The next claim
/// deletes her two mails, naming them, and leases dora's, who stayed; and a mail of the same
/// notification queued for cleo since, never tried, is leased as it is: its first attempt is
/// not asked (it was queued under these rules just before).
#[tokio::test]
async fn a_claim_drops_a_mail_tried_before_whose_member_left_the_private_group_it_quotes() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    let dora = member(&mut conn, "dora").await;
    let vault = group(&mut conn, "vault", "private", &[cleo, dora]).await;
    let roadmap = question(&mut conn, vault, dora, "The secret roadmap?").await;
    gets_both_digests(&mut conn, cleo).await;
    let mut reply = Vec::new();
    for person in [cleo, dora] {
        let about = ("post_id", roadmap);
        reply.push(notification(&mut conn, person, "reply", about, None, "1 hour").await);
    }
    let notice = ("notifications", "reply");
    let cleos = queued_about(&mut conn, cleo, notice, Some(reply[0]), None).await;
    let dailys = queued_about(
        &mut conn,
        cleo,
        ("digest", "daily"),
        None,
        Some(&reply[..1]),
    )
    .await;
    let doras = queued_about(&mut conn, dora, notice, Some(reply[1]), None).await;
    let first = claim(&mut conn).await;
    assert_eq!(first.dropped, [], "all wanted");
    assert_eq!(first.mails.len(), 3);
    let soon = Utc::now() - chrono::Duration::seconds(1);
    for tried in &first.mails {
        let recorded = mail::mail_failed(
            &mut conn,
            tried.id,
            tried.locked_until,
            Some(soon),
            "451 try again later",
        )
        .await
        .unwrap();
        assert!(
            matches!(recorded, FailureRecorded::Retried { .. }),
            "{recorded:?}"
        );
    }
    let untried = queued_about(&mut conn, cleo, notice, Some(reply[0]), None).await;

    conn.batch_execute(&format!(
        "DELETE FROM group_membership WHERE group_id = {vault} AND person_id = {cleo}"
    ))
    .await
    .unwrap();
    let second = claim(&mut conn).await;
    assert_eq!(
        second.dropped,
        dropped(&[(cleos, "notifications"), (dailys, "digest")])
    );
    let mut leased: Vec<(i64, i32)> = second.mails.iter().map(|m| (m.id, m.attempts)).collect();
    leased.sort_unstable();
    assert_eq!(leased, [(doras, 2), (untried, 1)]);
    assert_eq!(
        waiting(&mut conn).await,
        [doras, untried],
        "cleo's two mails tried before are gone"
    );
}

/// Taken back to before `quoted_notification_ids` (migration 2026-12-04-003137's down), a
/// digest is asked by the posts and comments its notices told of; one telling of a notification
/// gone since, which the retry of today drops, is given a post that cannot exist (0), so that
/// the earlier retry drops it too. Here a digest telling of a reply to a question and of a
/// notification deleted since, and one telling of the reply only.
#[tokio::test]
async fn taken_back_a_digest_telling_of_a_notification_gone_quotes_a_post_that_cannot_exist() {
    const DOWN: &str = include_str!(
        "../../../migrations/2026-12-04-003137_mail_queue_quoted_notifications/down.sql"
    );
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Quoted {
        #[diesel(sql_type = Nullable<diesel::sql_types::Array<BigInt>>)]
        quoted_post_ids: Option<Vec<i64>>,
        #[diesel(sql_type = Nullable<diesel::sql_types::Array<BigInt>>)]
        quoted_comment_ids: Option<Vec<i64>>,
    }
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let cleo = member(&mut conn, "cleo").await;
    let coffee = group(&mut conn, "coffee", "public", &[cleo]).await;
    let kettle = question(&mut conn, coffee, cleo, "Which kettle?").await;
    let about = ("post_id", kettle);
    let reply = notification(&mut conn, cleo, "reply", about, None, "1 hour").await;
    let gone = notification(&mut conn, cleo, "reply", about, None, "1 hour").await;
    let daily = ("digest", "daily");
    let both = queued_about(&mut conn, cleo, daily, None, Some(&[reply, gone])).await;
    let one = queued_about(&mut conn, cleo, daily, None, Some(&[reply])).await;
    conn.batch_execute(&format!("DELETE FROM notification WHERE id = {gone}"))
        .await
        .unwrap();

    conn.batch_execute(DOWN).await.unwrap();
    let quoted = diesel::sql_query(
        "SELECT quoted_post_ids, quoted_comment_ids FROM mail_queue WHERE id = ANY($1) ORDER BY id",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(vec![both, one])
    .load::<Quoted>(&mut conn)
    .await
    .unwrap();
    let digest = |posts: Vec<i64>| Quoted {
        quoted_post_ids: Some(posts),
        quoted_comment_ids: Some(vec![]),
    };
    assert_eq!(quoted, [digest(vec![0, kettle]), digest(vec![kettle])]);
}
