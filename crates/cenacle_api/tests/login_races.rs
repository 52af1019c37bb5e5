//! A log-in's account changing while its password is checked. The log-in reads the account
//! (`login_account`), checks the password with no connection held (`check_login_password`,
//! which may queue behind other hashes), then issues the token (`open_session`): what was
//! committed between the first step and the last (a suspension, a password reset, a ban, the
//! account deleted) must refuse the session, not be missed because it came after the read.
//! The steps are driven from the core, so that the change lands exactly between them.

mod common;

use axum::http::StatusCode;
use cenacle_core::{
    accounts::{check_login_password, login_account, open_session},
    CoreError, ScopedFutureExt,
};
use common::{TestApp, PASSWORD};
use diesel_async::RunQueryDsl;
use serde_json::json;
use std::time::Duration;

/// Session rows (live or not) of `username`: a refused log-in writes none.
async fn sessions_of(t: &TestApp, username: &str) -> i64 {
    t.count_with(
        "SELECT count(*) AS n FROM auth_token a JOIN person p ON p.id = a.person_id \
         WHERE p.username = $1 AND p.local",
        &[username],
    )
    .await
}

/// The account `username` read and its password checked: the log-in up to its last step.
async fn checked(t: &TestApp, username: &str) -> cenacle_db::accounts::Account {
    let read = login_account(&mut t.ctx.conn().await.unwrap(), username)
        .await
        .unwrap();
    check_login_password(read, PASSWORD).await.unwrap()
}

/// The last step, in a transaction of its own as the log-in route runs it.
async fn open(
    ctx: &cenacle_core::Context,
    account: cenacle_db::accounts::Account,
) -> Result<cenacle_core::accounts::IssuedToken, CoreError> {
    ctx.transaction(|conn| open_session(conn, ctx, account).scope_boxed())
        .await
}

/// The last step: the error it answers with.
async fn refusal(t: &TestApp, account: cenacle_db::accounts::Account) -> CoreError {
    match open(&t.ctx, account).await {
        Ok(_) => panic!("a session was opened"),
        Err(e) => e,
    }
}

/// A member registered (no session yet): the tests count the rows the log-in writes.
async fn marie(t: &TestApp) {
    let r = t.register("marie").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(sessions_of(t, "marie").await, 0);
}

/// Marie's log-in read her account and checked her password; then `meanwhile` (what a use
/// case writes) committed; then the session is asked for: the refusal, no session written.
async fn refused_after(t: &TestApp, meanwhile: &str) -> CoreError {
    marie(t).await;
    let account = checked(t, "marie").await;
    t.sql(meanwhile).await;
    let refused = refusal(t, account).await;
    assert_eq!(
        sessions_of(t, "marie").await,
        0,
        "a session row was written"
    );
    refused
}

#[tokio::test]
async fn a_suspension_committed_while_the_password_is_checked_opens_no_session() {
    let t = TestApp::new().await;
    let refused = refused_after(
        &t,
        "UPDATE local_user SET status = 'suspended' \
         WHERE person_id = (SELECT id FROM person WHERE username = 'marie' AND local)",
    )
    .await;
    assert!(
        matches!(refused, CoreError::AccountSuspended),
        "{refused:?}"
    );
    // The API's answer for it, as when the suspension came first.
    let r = t.login("marie", PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "account_suspended")
    );
}

#[tokio::test]
async fn a_password_reset_committed_while_the_password_is_checked_opens_no_session() {
    let t = TestApp::new().await;
    // What a reset writes (`account_mail::reset_password`): a new hash, every session ended.
    // The same password: it hashes anew (salted), and the old proof must still not count.
    let new_hash = cenacle_core::hash_password(PASSWORD).await.unwrap();
    let reset = format!(
        "UPDATE local_user SET password_hash = '{new_hash}' \
         WHERE person_id = (SELECT id FROM person WHERE username = 'marie' AND local)"
    );
    let refused = refused_after(&t, &reset).await;
    assert!(
        matches!(refused, CoreError::InvalidCredentials),
        "{refused:?}"
    );
}

/// The reset still uncommitted when the session is opened: the log-in waits for it (the
/// account row is held), then sees the new hash. Without the wait it would read the old row,
/// and its token, committed after the reset's revocation of every token, would outlive it.
#[tokio::test]
async fn a_password_reset_in_flight_is_waited_for_and_refuses_the_session() {
    let t = TestApp::new().await;
    marie(&t).await;
    let account = checked(&t, "marie").await;
    let new_hash = cenacle_core::hash_password("another horse battery")
        .await
        .unwrap();
    let mut reset = t.db.pool.get().await.unwrap();
    for statement in [
        "BEGIN".to_owned(),
        format!(
            "UPDATE local_user SET password_hash = '{new_hash}' \
             WHERE person_id = (SELECT id FROM person WHERE username = 'marie' AND local)"
        ),
        "UPDATE auth_token SET revoked_at = now() WHERE revoked_at IS NULL \
         AND person_id = (SELECT id FROM person WHERE username = 'marie' AND local)"
            .to_owned(),
    ] {
        diesel::sql_query(statement)
            .execute(&mut reset)
            .await
            .unwrap();
    }

    let ctx = t.ctx.clone();
    let login = tokio::spawn(async move { open(&ctx, account).await.map(|i| i.expires_at) });
    // A condition, not a delay: the log-in's session waits on the reset's lock (or the log-in
    // finished without waiting, which the assertion refuses).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let waited = loop {
        let waiters = t
            .count(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .await;
        if waiters >= 1 {
            break true;
        }
        if login.is_finished() || std::time::Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(waited, "the log-in did not wait for the reset");
    diesel::sql_query("COMMIT")
        .execute(&mut reset)
        .await
        .unwrap();

    let refused = login.await.unwrap().expect_err("a session was opened");
    assert!(
        matches!(refused, CoreError::InvalidCredentials),
        "{refused:?}"
    );
    assert_eq!(sessions_of(&t, "marie").await, 0);
}

#[tokio::test]
async fn a_ban_committed_while_the_password_is_checked_opens_no_session() {
    let t = TestApp::new().await;
    let admin = t.with_role("admin", cenacle_domain::Role::Admin).await;
    marie(&t).await;
    let account = checked(&t, "marie").await;
    let r = t
        .post(
            "/api/v1/admin/bans",
            Some(&admin),
            json!({"person": "marie", "reason": "spam", "expires_at": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);

    let refused = refusal(&t, account).await;
    assert!(
        matches!(refused, CoreError::BannedFromInstance),
        "{refused:?}"
    );
    assert_eq!(sessions_of(&t, "marie").await, 0);
}

/// The account gone meanwhile: the log-in answers as for an unknown user, saying nothing of
/// an account that was there.
#[tokio::test]
async fn an_account_deleted_while_the_password_is_checked_answers_bad_credentials() {
    let t = TestApp::new().await;
    let refused = refused_after(
        &t,
        "DELETE FROM local_user \
         WHERE person_id = (SELECT id FROM person WHERE username = 'marie' AND local)",
    )
    .await;
    assert!(
        matches!(refused, CoreError::InvalidCredentials),
        "{refused:?}"
    );
}

/// Nothing changed meanwhile: the session is opened, for the account as it now stands.
#[tokio::test]
async fn an_unchanged_account_gets_its_session() {
    let t = TestApp::new().await;
    marie(&t).await;
    let account = checked(&t, "marie").await;
    let issued = open(&t.ctx, account).await.unwrap();
    assert_eq!(issued.account.username, "marie");
    assert_eq!(sessions_of(&t, "marie").await, 1);
    let me = t.get("/api/v1/account/me", Some(&issued.token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
}
