//! The mail queue against a real PostgreSQL: what the worker's unparking of mails and an
//! admin's retry of parked mails may and may not undo of each other.

use cenacle_db::{
    mail::{self, FailureRecorded, NewMail, ParkedMail, RetryOutcome, RetryParked, StillWanted},
    testing::fresh_database,
};
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{Int4, Nullable, Text, Timestamptz},
    QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

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
};

/// How many went back, none dropped.
fn retried(n: usize) -> RetryOutcome {
    RetryOutcome {
        retried: n,
        dropped: 0,
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
        },
    )
    .await
    .unwrap();
}

/// A worker claims the one due mail and records a permanent refusal of it: it is parked.
async fn claimed_and_parked(conn: &mut AsyncPgConnection, error: &str) -> ParkedMail {
    let claimed = mail::claim_mails(conn, 1, 60.0, &[]).await.unwrap();
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
    let retried = mail::retry_parked_mails(&mut conn, RetryParked::One(first.id), &RULES)
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
        mail::retry_parked_mails(&mut conn, to_domain("EXAMPLE.ORG"), &RULES)
            .await
            .unwrap(),
        retried(1),
        "only a@Example.org: not the waiting mail, nor a longer domain"
    );
    assert_eq!(row(&mut conn, parked[0].id).await.parked_at, None);
    assert!(row(&mut conn, parked[2].id).await.parked_at.is_some());
    assert_eq!(
        mail::retry_parked_mails(&mut conn, RetryParked::ToDomain(None), &RULES)
            .await
            .unwrap(),
        retried(2)
    );
    assert!(mail::parked_mails(&mut conn, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        mail::retry_parked_mails(&mut conn, RetryParked::One(parked[0].id), &RULES)
            .await
            .unwrap(),
        retried(0),
        "a mail already back in line is not parked"
    );
}
