//! E-mail through a real SMTP server (aiosmtpd, started by the test) and a real `cenacle
//! serve`: address verification, password reset, address change, the queue when the mail
//! server is down, the signed one-click unsubscribe links, and an admin putting parked mails
//! back in line (through the API and the page).

use cenacle_api_tests::{
    browser::Browser,
    database::{connect, execute, number},
    eventually,
    smtp::{link, token as token_of, SmtpSink},
    Hosts, Instance, PASSWORD,
};
use cenacle_core::{
    digests,
    mail::{self, MailTopic},
    Context, ScopedFutureExt,
};
use cenacle_domain::{
    mail::{MailContent, MailKind},
    notifications::Kind,
};
use serde_json::{json, Value};
use std::time::Duration;

/// Correctness deadlines, generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(90);

fn mail_instance(name: &str, sink: &SmtpSink, env: &[(&str, &str)]) -> (Hosts, Instance) {
    let mut hosts = Hosts::default();
    hosts.add(name);
    let mut instance = Instance::new(name, &hosts);
    for (key, value) in [
        ("CENACLE_EMAIL__ENABLED", "true"),
        ("CENACLE_EMAIL__HOST", "127.0.0.1"),
        ("CENACLE_EMAIL__PORT", &sink.port.to_string()),
        ("CENACLE_EMAIL__TLS", "none"),
        ("CENACLE_EMAIL__FROM", "Cénacle <noreply@example.org>"),
        ("CENACLE_EMAIL__RETRY_FIRST_DELAY_SECONDS", "0.3"),
        ("CENACLE_EMAIL__TIMEOUT_SECONDS", "10"),
    ]
    .into_iter()
    .chain(env.iter().copied())
    {
        instance.set_env(key, value);
    }
    instance.start();
    (hosts, instance)
}

async fn register(instance: &Instance, username: &str, email: &str, language: &str) -> Value {
    let (status, body) = instance
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": username, "password": PASSWORD, "email": email, "language": language}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn login(instance: &Instance, username: &str, password: &str) -> (u16, Value) {
    instance
        .post(
            "/api/v1/account/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
}

/// Registers `username` at `email` and follows the verification mail's link.
async fn verified_member(
    instance: &Instance,
    sink: &SmtpSink,
    username: &str,
    email: &str,
) -> String {
    verified_member_in(instance, sink, (username, email), "en").await
}

/// [`verified_member`], who reads in `language`.
async fn verified_member_in(
    instance: &Instance,
    sink: &SmtpSink,
    (username, email): (&str, &str),
    language: &str,
) -> String {
    register(instance, username, email, language).await;
    let mails = sink.wait_for(email, 1, DEADLINE).await;
    let token = token_of(&link(
        &mails[0],
        &format!("{}/email/verify?", instance.base),
    ));
    let (status, body) = instance
        .post(
            "/api/v1/account/email/verify",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = login(instance, username, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn signing_up_mails_a_verification_link_and_sign_in_waits_for_it() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance(
        "alpha",
        &sink,
        &[("CENACLE_EMAIL__VERIFICATION", "required")],
    );

    // Required: no address, no account.
    let (status, body) = alpha
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "noaddress", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["field"], "email");
    // A malformed address: refused, nothing stored.
    let (status, body) = alpha
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "badaddress", "password": PASSWORD, "email": "not an address"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    let account = register(&alpha, "bob", "bob@example.org", "fr").await;
    assert_eq!(account["email_verified"], false);
    let (status, body) = login(&alpha, "bob", PASSWORD).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "email_not_verified");

    let mails = sink.wait_for("bob@example.org", 1, DEADLINE).await;
    let mail = &mails[0];
    // In the member's language, as text and HTML, not refusable (no List-Unsubscribe).
    assert_eq!(mail["content_type"], "multipart/alternative");
    assert!(
        mail["headers"]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Confirmez"),
        "{mail}"
    );
    assert!(mail["html"].as_str().unwrap().contains("<a href=\""));
    assert!(mail["headers"].get("list-unsubscribe").is_none());
    assert!(mail["headers"]["message-id"]
        .as_str()
        .unwrap()
        .contains("@alpha.test"));

    // The link opens a page, and its token verifies the address once.
    let url = link(mail, &format!("{}/email/verify?", alpha.base));
    let page = alpha.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let token = token_of(&url);
    let (status, body) = alpha
        .post(
            "/api/v1/account/email/verify",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email_verified"], true);
    let (status, body) = login(&alpha, "bob", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = alpha
        .post(
            "/api/v1/account/email/verify",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("token_used"))
    );
    let (status, body) = alpha
        .post(
            "/api/v1/account/email/verify",
            None,
            json!({"token": "cev_nonsense"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("token_invalid"))
    );
    // The welcome waited for the verified address: it arrives now, once, in French.
    let welcome = eventually("the welcome mail", DEADLINE, || async {
        let got: Vec<Value> = sink
            .to("bob@example.org")
            .into_iter()
            .filter(|m| {
                m["headers"]["subject"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("Bienvenue")
            })
            .collect();
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert!(
        welcome[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Bonjour bob,"),
        "{}",
        welcome[0]
    );
    // Once: the verification's transaction queued it with anything else it owed, so when
    // bob's queue is empty every mail it held has reached the sink (a row leaves the queue
    // only after the server accepted it).
    eventually("bob's mail queue drained", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let left = number(
            &mut db,
            "SELECT count(*) FROM mail_queue WHERE to_address = 'bob@example.org'",
        )
        .await;
        (left == 0).then_some(())
    })
    .await;
    let welcomes = sink
        .to("bob@example.org")
        .into_iter()
        .filter(cenacle_api_tests::smtp::is_welcome)
        .count();
    assert_eq!(welcomes, 1);
}

#[tokio::test]
async fn a_password_reset_link_works_once_expires_and_reveals_no_address() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let mut db = connect(&alpha).await;
    register(&alpha, "carol", "carol@example.org", "en").await;
    sink.wait_for("carol@example.org", 1, DEADLINE).await; // the verification mail

    // Unknown and known addresses: the same status and body.
    let unknown = alpha
        .post(
            "/api/v1/account/password/forgot",
            None,
            json!({"email": "nobody@example.org"}),
        )
        .await;
    let known = alpha
        .post(
            "/api/v1/account/password/forgot",
            None,
            json!({"email": "Carol@Example.org"}),
        )
        .await;
    assert_eq!(unknown, known);
    assert_eq!(known.0, 202);
    let mails = sink.wait_for("carol@example.org", 2, DEADLINE).await;
    let reset = &mails[1];
    assert!(reset["headers"]["subject"]
        .as_str()
        .unwrap()
        .starts_with("Reset your password"));
    // Nothing was queued for the unknown address: the queue empties with carol's mails
    // (the row of an arrived mail goes just after the server accepted it).
    queue_empties(&alpha).await;
    assert!(sink.to("nobody@example.org").is_empty());
    // Only the token's hash is stored.
    let token = token_of(&link(reset, &format!("{}/password/reset?", alpha.base)));
    assert_eq!(
        number(
            &mut db,
            &format!("SELECT count(*) FROM account_token WHERE token_hash = convert_to('{token}', 'UTF8')")
        )
        .await,
        0
    );

    // A malformed address, an unknown token, a weak password: clear 4xx, nothing changed.
    let (status, body) = alpha
        .post(
            "/api/v1/account/password/forgot",
            None,
            json!({"email": "carol"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, body) = alpha
        .post(
            "/api/v1/account/password/reset",
            None,
            json!({"token": "cer_nonsense", "password": "another long password"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("token_invalid"))
    );
    let (status, _) = alpha
        .post(
            "/api/v1/account/password/reset",
            None,
            json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(status, 422);

    // The token works once; the sessions end.
    let (_, session) = login(&alpha, "carol", PASSWORD).await;
    let session = session["token"].as_str().unwrap().to_owned();
    let (status, body) = alpha
        .post(
            "/api/v1/account/password/reset",
            None,
            json!({"token": token, "password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(alpha.get("/api/v1/account/me", Some(&session)).await.0, 401);
    assert_eq!(login(&alpha, "carol", PASSWORD).await.0, 401);
    assert_eq!(login(&alpha, "carol", "a brand new password").await.0, 200);
    let (status, body) = alpha
        .post(
            "/api/v1/account/password/reset",
            None,
            json!({"token": token, "password": "yet another password"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("token_used"))
    );

    // A token past its lifetime is refused (its expiry moved to the past: the clock of the
    // database decides) and changes nothing.
    alpha
        .post(
            "/api/v1/account/password/forgot",
            None,
            json!({"email": "carol@example.org"}),
        )
        .await;
    let mails = sink.wait_for("carol@example.org", 3, DEADLINE).await;
    let late = token_of(&link(&mails[2], &format!("{}/password/reset?", alpha.base)));
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE account_token SET expires_at = now() - interval '1 second' \
             WHERE purpose = 'reset_password' AND used_at IS NULL",
        ),
        &mut db,
    )
    .await
    .unwrap();
    let (status, body) = alpha
        .post(
            "/api/v1/account/password/reset",
            None,
            json!({"token": late, "password": "yet another password"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("token_expired"))
    );
    assert_eq!(login(&alpha, "carol", "a brand new password").await.0, 200);
}

#[tokio::test]
async fn mails_wait_for_a_mail_server_that_is_down_and_arrive_once() {
    // The server is down from the start. One attempt per mail: an outage counted against the
    // mails would park them at once.
    let mut sink = SmtpSink::new();
    let (_hosts, mut alpha) =
        mail_instance("alpha", &sink, &[("CENACLE_EMAIL__MAX_ATTEMPTS", "1")]);
    let mut db = connect(&alpha).await;
    let people = ["dora", "eve", "finn"];
    for name in people {
        register(&alpha, name, &format!("{name}@example.org"), "en").await;
    }
    // Queued, tried again after growing pauses (one error each), none parked or counted.
    eventually("three mails waiting out two pauses", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let waiting = number(&mut db, "SELECT count(*) FROM mail_queue WHERE attempts = 0 AND last_error LIKE 'not sent, no working SMTP session%' AND parked_at IS NULL").await;
        (waiting == 3 && alpha.log().matches("sending paused").count() >= 2).then_some(())
    })
    .await;
    // A restart loses nothing.
    assert_eq!(number(&mut db, "SELECT count(*) FROM mail_queue").await, 3);
    drop(db);
    alpha.stop();
    alpha.start();
    let mut db = connect(&alpha).await;
    assert_eq!(number(&mut db, "SELECT count(*) FROM mail_queue").await, 3);

    sink.start();
    let messages = each_mail_arrives_once(&alpha, &sink, &people).await;
    let mut ids: Vec<&str> = messages
        .iter()
        .map(|m| m["headers"]["message-id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

#[tokio::test]
async fn mails_refused_for_a_wrong_smtp_password_stay_queued_until_it_is_mended() {
    let mut sink = SmtpSink::with_login("cenacle", "the right one");
    sink.start();
    let certificate = sink.certificate().display().to_string();
    // One attempt per mail: a refusal counted against the mail would park it at once.
    let (_hosts, mut alpha) = mail_instance(
        "alpha",
        &sink,
        &[
            ("CENACLE_EMAIL__TLS", "starttls"),
            ("CENACLE_EMAIL__USERNAME", "cenacle"),
            ("CENACLE_EMAIL__PASSWORD", "a wrong one"),
            ("CENACLE_EMAIL__MAX_ATTEMPTS", "1"),
            ("SSL_CERT_FILE", &certificate),
        ],
    );
    let people = ["gail", "hugo"];
    for name in people {
        register(&alpha, name, &format!("{name}@example.org"), "en").await;
    }
    eventually("the worker to meet the login refusal", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        (number(
            &mut db,
            "SELECT count(*) FROM mail_queue WHERE last_error LIKE '%(535)%'",
        )
        .await
            >= 1)
            .then_some(())
    })
    .await;
    let mut db = connect(&alpha).await;
    let parked = "SELECT count(*) FROM mail_queue WHERE parked_at IS NOT NULL";
    assert_eq!(number(&mut db, parked).await, 0, "{}", alpha.log());
    // The worker tries again after a pause, still without counting the refusals as attempts;
    // each pause is one error naming the settings to check.
    eventually("a second pause", DEADLINE, || async {
        (alpha.log().matches("`email.password`").count() >= 2).then_some(())
    })
    .await;
    assert_eq!(number(&mut db, parked).await, 0);
    assert_eq!(
        number(
            &mut db,
            // A mail not being tried right now has no attempt counted.
            "SELECT count(*) FROM mail_queue WHERE attempts > 0 AND locked_until IS NULL"
        )
        .await,
        0
    );
    assert_eq!(number(&mut db, "SELECT count(*) FROM mail_queue").await, 2);
    assert!(
        !alpha.log().contains("a wrong one"),
        "the password stays out of the log"
    );
    drop(db);

    // The password mended, every mail goes, once.
    alpha.stop();
    alpha.set_env("CENACLE_EMAIL__PASSWORD", "the right one");
    alpha.start();
    each_mail_arrives_once(&alpha, &sink, &people).await;
}

/// Makes the database refuse every hand-back (a release: the lock dropped and the attempt
/// taken back), as a connection lost mid-way would. `mend_updates` lets them through.
async fn refuse_hand_backs(db: &mut diesel_async::AsyncPgConnection) {
    refuse_updates(
        db,
        "OLD.locked_until IS NOT NULL AND NEW.locked_until IS NULL \
         AND NEW.attempts < OLD.attempts",
    )
    .await
}

/// Makes the database refuse the updates of queued mails that `when` (a trigger's condition on
/// `OLD` and `NEW`) selects, as a connection lost mid-way would.
async fn refuse_updates(db: &mut diesel_async::AsyncPgConnection, when: &str) {
    let poison = [
        "CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the update cannot be recorded'; END $$"
            .to_owned(),
        format!(
            "CREATE TRIGGER refuse_update BEFORE UPDATE ON mail_queue FOR EACH ROW \
             WHEN ({when}) EXECUTE FUNCTION refuse_update()"
        ),
    ];
    for statement in poison {
        diesel_async::RunQueryDsl::execute(diesel::sql_query(statement), db)
            .await
            .unwrap();
    }
}

/// Lets through what `refuse_updates` refused.
async fn mend_updates(db: &mut diesel_async::AsyncPgConnection) {
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("DROP TRIGGER refuse_update ON mail_queue"),
        db,
    )
    .await
    .unwrap();
}

/// A mail's failure the database refuses to record (here its parking) is tried again until it
/// works: the mail is parked, as its refusal says. It used to be tried once and then left to
/// its lease's end, when it was claimed and sent again, an attempt counted, instead of parked.
#[tokio::test]
async fn a_failure_the_database_refuses_to_record_is_tried_again() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let mut db = connect(&alpha).await;
    refuse_updates(
        &mut db,
        "OLD.parked_at IS NULL AND NEW.parked_at IS NOT NULL",
    )
    .await;
    register(&alpha, "kim", "kim@refused.example", "en").await;
    let a = &alpha;
    eventually("recording the failure to fail", DEADLINE, || async move {
        a.log()
            .contains("recording a mail failure failed; trying again")
            .then_some(())
    })
    .await;

    mend_updates(&mut db).await;
    eventually("the mail parked", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let parked = "SELECT count(*) FROM mail_queue WHERE to_address = 'kim@refused.example' \
                      AND parked_at IS NOT NULL AND attempts = 1 \
                      AND last_error LIKE '%No such mailbox here%'";
        (number(&mut db, parked).await == 1).then_some(())
    })
    .await;
    assert!(
        alpha.log().contains("mail not sent; parked"),
        "{}",
        alpha.log()
    );
}

/// A hand-back the database refuses (here a trigger, as a connection lost mid-way would) is
/// tried again until it works: the mail goes back with no attempt counted, not held until its
/// lease (minutes) runs out and then counted an attempt for a failure that was not its own.
#[tokio::test]
async fn a_hand_back_the_database_refuses_is_tried_again() {
    // The mail server is down: the worker hands its mail back.
    let mut sink = SmtpSink::new();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let mut db = connect(&alpha).await;
    refuse_hand_backs(&mut db).await;
    register(&alpha, "kim", "kim@example.org", "en").await;
    let a = &alpha;
    eventually("the hand-back to fail", DEADLINE, || async move {
        a.log().contains("handing mails back failed").then_some(())
    })
    .await;
    // Meanwhile the mail stays claimed, its attempt counted.
    let claimed = "SELECT count(*) FROM mail_queue WHERE to_address = 'kim@example.org' \
                   AND attempts = 1 AND locked_until > now()";
    assert_eq!(number(&mut db, claimed).await, 1, "{}", alpha.log());

    // The database mended, the next try hands it back.
    mend_updates(&mut db).await;
    eventually("the mail handed back", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let back = number(
            &mut db,
            "SELECT count(*) FROM mail_queue WHERE to_address = 'kim@example.org' \
             AND attempts = 0 AND locked_until IS NULL \
             AND last_error LIKE 'not sent, no working SMTP session%'",
        )
        .await;
        (back == 1).then_some(())
    })
    .await;

    // The mail server back, the mail goes, once.
    sink.start();
    each_mail_arrives_once(&alpha, &sink, &["kim"]).await;
}

/// Waits until every queued mail has left the queue (sent, or its row removed).
async fn queue_empties(alpha: &Instance) {
    eventually("the queue to empty", DEADLINE, || async {
        let mut db = connect(alpha).await;
        (number(&mut db, "SELECT count(*) FROM mail_queue").await == 0).then_some(())
    })
    .await;
}

/// Waits for one mail to each of `people` (at example.org) and for the queue to empty; then
/// the sink holds exactly those mails. Returns them.
async fn each_mail_arrives_once(alpha: &Instance, sink: &SmtpSink, people: &[&str]) -> Vec<Value> {
    for name in people {
        sink.wait_for(&format!("{name}@example.org"), 1, DEADLINE)
            .await;
    }
    queue_empties(alpha).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), people.len(), "each mail arrives once");
    messages
}

/// A mailbox refused for itself (550) while the session works parks that one mail, at its
/// first try, and holds up nobody else's.
#[tokio::test]
async fn a_mail_refused_for_itself_is_parked_and_the_others_go() {
    a_refused_mailbox_is_parked("noreply@example.org").await;
}

/// The same when the server also refuses the sender domain's postmaster (a relay that does not
/// serve that domain): that is not the sender refused, and one mistyped address must not hold
/// the whole queue.
#[tokio::test]
async fn a_refused_mailbox_is_parked_even_where_the_senders_postmaster_is_refused() {
    a_refused_mailbox_is_parked("club@refused.example").await;
}

async fn a_refused_mailbox_is_parked(from: &str) {
    let sink = SmtpSink::started();
    let from = format!("Cénacle <{from}>");
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[("CENACLE_EMAIL__FROM", &from)]);
    register(&alpha, "ivy", "ivy@refused.example", "en").await;
    register(&alpha, "jon", "jon@example.org", "en").await;
    sink.wait_for("jon@example.org", 1, DEADLINE).await;
    eventually("ivy's mails parked, nothing else queued", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let parked = number(&mut db, "SELECT count(*) FROM mail_queue WHERE to_address = 'ivy@refused.example' AND parked_at IS NOT NULL AND attempts = 1 AND last_error LIKE '%550%'").await;
        let queued = number(&mut db, "SELECT count(*) FROM mail_queue").await;
        (parked >= 1 && queued == parked).then_some(())
    })
    .await;
    assert!(!alpha.log().contains("sending paused"), "{}", alpha.log());
    assert!(sink.to("ivy@refused.example").is_empty());
}

#[tokio::test]
async fn changing_the_address_is_confirmed_from_the_new_one_and_told_to_the_old_one() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let session = verified_member(&alpha, &sink, "gina", "gina@old.example").await;

    let change = |new_email: &str, password: &str| {
        alpha.post(
            "/api/v1/account/email/change",
            Some(&session),
            json!({"new_email": new_email, "password": password}),
        )
    };
    let (status, body) = change("not-an-address", PASSWORD).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, _) = change("gina@new.example", "wrong password!").await;
    assert_eq!(status, 401);
    let (status, body) = change("gina@new.example", PASSWORD).await;
    assert_eq!(status, 202, "{body}");

    let confirm = &sink.wait_for("gina@new.example", 1, DEADLINE).await[0];
    let notice = &sink.wait_for("gina@old.example", 2, DEADLINE).await[1];
    assert!(notice["text"]
        .as_str()
        .unwrap()
        .contains("gina@new.example"));
    // Not changed until confirmed.
    let (_, me) = alpha.get("/api/v1/account/me", Some(&session)).await;
    assert_eq!(me["email"], "gina@old.example");

    let token = token_of(&link(confirm, &format!("{}/email/confirm?", alpha.base)));
    let (status, body) = alpha
        .post(
            "/api/v1/account/email/confirm",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["email"].as_str(), body["email_verified"].as_bool()),
        (Some("gina@new.example"), Some(true))
    );
    let (status, body) = alpha
        .post(
            "/api/v1/account/email/confirm",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("token_used"))
    );

    // Someone who learnt the password asks to move the account to their address; the owner,
    // warned, resets her password: the pending change dies with the old password.
    let (status, body) = change("thief@evil.example", PASSWORD).await;
    assert_eq!(status, 202, "{body}");
    let stolen = &sink.wait_for("thief@evil.example", 1, DEADLINE).await[0];
    let stolen = token_of(&link(stolen, &format!("{}/email/confirm?", alpha.base)));
    let (status, _) = alpha
        .post(
            "/api/v1/account/password/forgot",
            None,
            json!({"email": "gina@new.example"}),
        )
        .await;
    assert_eq!(status, 202);
    // The confirmation of the change, the notice of the thief's request, the reset.
    let reset = &sink.wait_for("gina@new.example", 3, DEADLINE).await[2];
    let reset = token_of(&link(reset, &format!("{}/password/reset?", alpha.base)));
    let (status, body) = alpha
        .post(
            "/api/v1/account/password/reset",
            None,
            json!({"token": reset, "password": "a brand new long password"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = alpha
        .post(
            "/api/v1/account/email/confirm",
            None,
            json!({"token": stolen}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("token_used")),
        "{body}"
    );
}

/// A core context on the instance's database, with its mail settings: what other code (the
/// notifications) calls to queue a mail.
fn core_context(instance: &Instance, sink: &SmtpSink) -> Context {
    let settings = cenacle_config::Settings::load(
        None,
        [
            ("CENACLE_EMAIL__ENABLED", "true".to_owned()),
            ("CENACLE_EMAIL__PORT", sink.port.to_string()),
            ("CENACLE_EMAIL__FROM", "noreply@example.org".to_owned()),
            ("CENACLE_SERVER__PUBLIC_URL", instance.base.clone()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .unwrap();
    let pool =
        cenacle_db::connect_pool(&instance.database_url(), 2, Duration::from_secs(30)).unwrap();
    Context::new(pool, settings)
}

/// Queues a notification mail of a reply (mailed at once by default) to `person_id`, about
/// a notification of a reply written for it, about no post (nothing of it can be taken down
/// or hidden).
async fn queue_notification(ctx: &Context, person_id: i64) -> bool {
    ctx.transaction(|conn| {
        async move {
            #[derive(diesel::QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            let notification: Id = diesel_async::RunQueryDsl::get_result(
                diesel::sql_query(
                    "INSERT INTO notification (recipient_id, kind) VALUES ($1, 'reply') \
                     RETURNING id",
                )
                .bind::<diesel::sql_types::BigInt, _>(person_id),
                conn,
            )
            .await?;
            let topic = MailTopic::Notification {
                kind: Kind::Reply,
                notification_id: notification.id,
            };
            mail::enqueue_mail_about(conn, ctx, person_id, topic, |_| {
                MailContent::compose(
                    "Someone answered".into(),
                    "Hello,",
                    &["Your question has an answer.".into()],
                    None,
                    "alpha",
                )
            })
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn unsubscribe_links_are_signed_and_one_click() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let session = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let (_, me) = alpha.get("/api/v1/account/me", Some(&session)).await;
    let person_id = me["id"].as_i64().unwrap();
    let ctx = core_context(&alpha, &sink);
    let mut db = connect(&alpha).await;

    assert!(queue_notification(&ctx, person_id).await);
    let mail = sink.wait_for("hugo@example.org", 2, DEADLINE).await[1].clone();
    assert_eq!(
        mail["headers"]["list-unsubscribe-post"],
        "List-Unsubscribe=One-Click"
    );
    let header = mail["headers"]["list-unsubscribe"].as_str().unwrap();
    let url = header
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/api/v1/email/unsubscribe?", alpha.base)),
        "{url}"
    );
    assert!(mail["text"]
        .as_str()
        .unwrap()
        .contains(&format!("{}/unsubscribe?", alpha.base)));

    // A bad signature, or a kind one cannot refuse: 403, nothing changed.
    let one_click = |url: String| {
        let http = alpha.http.clone();
        async move {
            let response = http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let forged = format!("{}x", &url[..url.len() - 1]);
    let (status, body) = one_click(forged).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("unsubscribe_link_invalid"))
    );
    let other_kind = url.replace("k=notifications", "k=password_reset");
    let (status, _) = one_click(other_kind).await;
    assert_eq!(status, 403);
    let other_member = url.replace(&format!("p={person_id}"), &format!("p={}", person_id + 1));
    let (status, _) = one_click(other_member).await;
    assert_eq!(status, 403);
    assert_eq!(
        number(&mut db, "SELECT count(*) FROM email_opt_out").await,
        0
    );

    // The real link: no more mails of that kind.
    let (status, body) = one_click(url.clone()).await;
    assert_eq!(
        (status, body["kind"].as_str()),
        (200, Some("notifications"))
    );
    let (_, prefs) = alpha
        .get("/api/v1/account/email/preferences", Some(&session))
        .await;
    assert!(
        prefs
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "notifications" && p["receive"] == false),
        "{prefs}"
    );
    assert!(!queue_notification(&ctx, person_id).await);
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM mail_queue WHERE kind = 'notifications'"
        )
        .await,
        0
    );
    assert_eq!(sink.to_except_welcome("hugo@example.org").len(), 2);
}

/// A page's cookies (as a `Cookie` header) and its form token.
async fn form_of(instance: &Instance, path: &str) -> (String, String, String) {
    let page = instance.http.get(instance.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200, "{path}");
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no form token on {path}"))
        .to_owned();
    (cookies.join("; "), csrf, html)
}

async fn submit(
    instance: &Instance,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = instance
        .http
        .post(instance.url(path))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_pages_of_mailed_links_need_their_form_token_and_work() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let mut db = connect(&alpha).await;
    register(&alpha, "ivy", "ivy@example.org", "en").await;
    sink.wait_for("ivy@example.org", 1, DEADLINE).await;

    let (cookie, csrf, html) = form_of(&alpha, "/password/forgot").await;
    assert!(html.contains("type=\"email\""));
    // Without the form token: refused, nothing queued.
    let (status, _) = submit(
        &alpha,
        "/password/forgot",
        &cookie,
        &[("email", "ivy@example.org")],
    )
    .await;
    assert_eq!(status, 403);
    let resets = "SELECT count(*) FROM account_token WHERE purpose = 'reset_password'";
    assert_eq!(number(&mut db, resets).await, 0);
    // A malformed address: the form again, saying why.
    let (status, page) = submit(
        &alpha,
        "/password/forgot",
        &cookie,
        &[("csrf", &csrf), ("email", "ivy")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("form-error"));
    let (status, page) = submit(
        &alpha,
        "/password/forgot",
        &cookie,
        &[("csrf", &csrf), ("email", "ivy@example.org")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("role=\"status\""), "{page}");

    // The mailed link's page, then its form.
    let mail = &sink.wait_for("ivy@example.org", 2, DEADLINE).await[1];
    let url = link(mail, &format!("{}/password/reset?", alpha.base));
    let path = url.strip_prefix(&alpha.base).unwrap();
    let (cookie, csrf, html) = form_of(&alpha, path).await;
    let token = token_of(&url);
    assert!(html.contains(&token));
    let (status, _) = submit(
        &alpha,
        "/password/reset",
        &cookie,
        &[
            ("csrf", &csrf),
            ("token", &token),
            ("password", "a fresh password 1"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(login(&alpha, "ivy", "a fresh password 1").await.0, 200);
    // Spent: the page says so.
    let (status, page) = submit(
        &alpha,
        "/password/reset",
        &cookie,
        &[
            ("csrf", &csrf),
            ("token", &token),
            ("password", "a fresh password 2"),
        ],
    )
    .await;
    assert_eq!(status, 410);
    assert!(page.contains("form-error"));
}

/// The Must-show of issue 16: a reply to a member's question mails them (replies are mailed
/// at once by default) with a link to the answer and a working unsubscribe link; once they
/// unsubscribe, the next reply mails nothing. The negative is read after a later marker mail
/// (a password reset, queued after the second reply) has arrived: the worker turns pending
/// notifications into mails before it sends what is queued, so by then it had its chance.
#[tokio::test]
async fn a_reply_is_mailed_with_an_unsubscribe_link_and_none_after_unsubscribing() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = with_coffee_group(&sink).await;
    let asker = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let neighbour = alpha.member("neighbour").await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups/coffee/posts",
            Some(&asker),
            json!({"kind": "question", "title": "Which grinder?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let question = body["post"]["id"].as_i64().unwrap();
    let reply = async |text: &str| {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/posts/{question}/comments"),
                Some(&neighbour),
                json!({"body": text}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    };

    let answer = reply("A burr grinder.").await;
    let mails = sink.wait_for("hugo@example.org", 2, DEADLINE).await;
    let mail = &mails[1];
    let subject = mail["headers"]["subject"].as_str().unwrap();
    assert!(subject.contains("neighbour replied to"), "{subject}");
    let page = link(mail, &format!("{}/posts/{question}", alpha.base));
    assert!(page.ends_with(&format!("#answer-{answer}")), "{page}");
    let (status, _) = alpha.get(&format!("/posts/{question}"), None).await;
    assert_eq!(status, 200);
    let header = mail["headers"]["list-unsubscribe"].as_str().unwrap();
    let url = header.trim_start_matches('<').trim_end_matches('>');
    assert!(url.contains("k=notifications"), "{url}");
    let response = alpha
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Another reply after unsubscribing, then the marker.
    reply("Or a hand grinder.").await;
    let (status, _) = alpha
        .post(
            "/api/v1/account/password/forgot",
            None,
            json!({"email": "hugo@example.org"}),
        )
        .await;
    assert_eq!(status, 202);
    let mails = sink.wait_for("hugo@example.org", 3, DEADLINE).await;
    assert!(
        mails[2]["headers"]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Reset your password"),
        "{}",
        mails[2]["headers"]["subject"]
    );
    let mut db = connect(&alpha).await;
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM notification WHERE mail_due IS NOT NULL"
        )
        .await,
        0,
        "the second reply's notification was handled before the marker was sent"
    );
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM notification WHERE kind = 'reply'"
        )
        .await,
        2,
        "still notified in the app"
    );
    assert_eq!(sink.to_except_welcome("hugo@example.org").len(), 3);
}

/// A mailing instance with a public group, `coffee`.
async fn with_coffee_group(sink: &SmtpSink) -> (Hosts, Instance) {
    let (hosts, alpha) = mail_instance("alpha", sink, &[]);
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "coffee", "title": "Coffee"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (hosts, alpha)
}

/// A mention, mailed at once by default, reaches the member named in their language, linking
/// the text that names them.
#[tokio::test]
async fn a_mention_is_mailed_at_once_in_the_members_language() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = with_coffee_group(&sink).await;
    verified_member_in(&alpha, &sink, ("lea", "lea@example.org"), "fr").await;
    let writer = alpha.member("writer").await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups/coffee/posts",
            Some(&writer),
            json!({"kind": "note", "title": "Moulins", "body": "Qu'en pense @lea ?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let post = body["post"]["id"].as_i64().unwrap();
    let mails = sink.wait_for("lea@example.org", 2, DEADLINE).await;
    let subject = mails[1]["headers"]["subject"].as_str().unwrap();
    assert!(
        subject.contains("writer vous a mentionné dans") && subject.contains("Moulins"),
        "{subject}"
    );
    link(&mails[1], &format!("{}/posts/{post}", alpha.base));
}

/// A server refusing the instance's own sender (553 at `MAIL FROM`, while the session works)
/// would refuse every mail: that is the configuration's fault, not the mail's. The mail stays
/// queued with no attempt counted, the error names `email.from`, and once it is mended the
/// mail goes.
#[tokio::test]
async fn mails_refused_for_the_instances_sender_stay_queued_until_email_from_is_mended() {
    // The sender refused at `MAIL FROM`, no login.
    let sink = SmtpSink::started();
    sender_refusal_holds_the_queue(&sink, &[], "club@unlisted.example").await;
}

/// As Postfix refuses a sender its login may not use (`reject_sender_login_mismatch`): only at
/// the first `RCPT TO`, on a session with STARTTLS and a login, which the probe must open as
/// the transport does.
#[tokio::test]
async fn a_sender_refused_at_its_first_recipient_after_a_login_holds_the_queue_too() {
    let mut sink = SmtpSink::with_login("cenacle", "the right one");
    sink.start();
    let certificate = sink.certificate().display().to_string();
    let login = [
        ("CENACLE_EMAIL__TLS", "starttls"),
        ("CENACLE_EMAIL__USERNAME", "cenacle"),
        ("CENACLE_EMAIL__PASSWORD", "the right one"),
        ("SSL_CERT_FILE", certificate.as_str()),
    ];
    sender_refusal_holds_the_queue(&sink, &login, "club@late.example").await;
}

/// With `email.from` set to `from`, which the sink refuses: a new member's mail is held back
/// (neither parked nor counted) at least twice, with an error naming `email.from`; once it is
/// mended, the mail goes, once, from the new address.
async fn sender_refusal_holds_the_queue(sink: &SmtpSink, env: &[(&str, &str)], from: &str) {
    let display_from = format!("Cénacle <{from}>");
    // One attempt per mail: a refusal counted against the mail would park it at once.
    let mut settings = vec![
        ("CENACLE_EMAIL__FROM", display_from.as_str()),
        ("CENACLE_EMAIL__MAX_ATTEMPTS", "1"),
    ];
    settings.extend_from_slice(env);
    let (_hosts, mut alpha) = mail_instance("alpha", sink, &settings);
    register(&alpha, "lena", "lena@example.org", "en").await;
    let held = format!(
        "SELECT count(*) FROM mail_queue WHERE to_address = 'lena@example.org' \
         AND parked_at IS NULL AND attempts = 0 AND locked_until IS NULL \
         AND last_error LIKE 'not sent, the SMTP server refuses `email.from` \
         ({from}) as sender:%553%'"
    );
    let parked = "SELECT count(*) FROM mail_queue WHERE parked_at IS NOT NULL";
    let named = format!("the SMTP server refuses `email.from` ({from}) as sender");
    // Two pauses: the mail was tried again, and still neither parked nor counted.
    eventually(
        "the mail held back twice for `email.from`",
        DEADLINE,
        || async {
            let mut db = connect(&alpha).await;
            assert_eq!(number(&mut db, parked).await, 0, "{}", alpha.log());
            let errors = alpha.log().matches(&named).count();
            (number(&mut db, &held).await == 1 && errors >= 2).then_some(())
        },
    )
    .await;
    assert!(sink.messages().is_empty());
    assert!(
        !alpha.log().contains("`email.password`"),
        "the session is not blamed: {}",
        alpha.log()
    );

    // `email.from` mended, the mail goes, once, from the new address.
    alpha.stop();
    alpha.set_env("CENACLE_EMAIL__FROM", "Cénacle <club@example.org>");
    alpha.start();
    let messages = each_mail_arrives_once(&alpha, sink, &["lena"]).await;
    assert_eq!(messages[0]["mail_from"], "club@example.org");
}

/// Microsoft 365's refusal, after the data, of a sender the login may not send as.
const SEND_AS_DENIED: &str = "554 5.2.252 SendAsDenied; cenacle@example.org not allowed to \
    send as noreply@example.org; STOREDRV.Submission.Exception:SendAsDeniedException; Failed \
    to process message due to a permanent exception";

/// A relay's refusal, after the data, of a From its DMARC policy does not let it send; no word
/// of it says it is about the sender.
const DMARC_REFUSED: &str = "550 5.7.26 Unauthenticated email from example.org is not \
    accepted due to domain's DMARC policy";

/// A server refusing our sender only after the data (it takes the probe's `MAIL FROM` and
/// `RCPT TO`), saying so: each mail used to be parked, one after the other, the whole queue
/// lost to a wrong `email.from`. The mails stay queued, uncounted, none ever parked.
#[tokio::test]
async fn a_sender_refused_after_the_data_in_so_many_words_holds_the_queue_at_once() {
    data_refusal_holds_the_queue(SEND_AS_DENIED, 0).await;
}

/// The same refusal saying nothing of the sender: each mail is the mail's at first (parked),
/// but the same reply to three different recipients in a row is the sender's: the two mails
/// parked for it go back to the queue, their attempt not counted, and none is parked again.
#[tokio::test]
async fn the_same_refusal_after_the_data_of_three_mails_holds_the_queue_and_unparks_them() {
    data_refusal_holds_the_queue(DMARC_REFUSED, 2).await;
}

/// With the sink refusing every mail's data with `reply`: three newcomers' mails end up held
/// back (neither parked nor counted), twice, with an error naming `email.from`, after
/// `parked_first` of them were parked and put back; once the sink takes mail again, each goes,
/// once.
async fn data_refusal_holds_the_queue(reply: &str, parked_first: usize) {
    let sink = SmtpSink::started();
    sink.refuse_data(Some(reply));
    // One attempt per mail: a refusal counted against the mail would park it for good.
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[("CENACLE_EMAIL__MAX_ATTEMPTS", "1")]);
    let people = ["lena", "paul", "marie"];
    for name in people {
        register(&alpha, name, &format!("{name}@example.org"), "en").await;
    }
    let code = &reply[..3];
    let held = format!(
        "SELECT count(*) FROM mail_queue WHERE parked_at IS NULL AND attempts = 0 \
         AND locked_until IS NULL AND last_error LIKE 'not sent, the SMTP server refuses \
         `email.from` (noreply@example.org) as sender: permanent error ({code})%'"
    );
    let named = "the SMTP server refuses `email.from` (noreply@example.org) as sender";
    // Two pauses: the mails were tried again, and held back again.
    eventually("the three mails held back twice", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let errors = alpha.log().matches(named).count();
        (number(&mut db, &held).await == 3 && errors >= 2).then_some(())
    })
    .await;
    let log = alpha.log();
    let mut db = connect(&alpha).await;
    let parked = "SELECT count(*) FROM mail_queue WHERE parked_at IS NOT NULL";
    assert_eq!(number(&mut db, parked).await, 0, "{log}");
    // Parked only before the refusal was found to be the sender's, never after.
    assert_eq!(
        log.matches("mail not sent; parked").count(),
        parked_first,
        "{log}"
    );
    assert_eq!(
        log.contains("mails parked for the same refusal go back to the queue"),
        parked_first > 0,
        "{log}"
    );
    assert!(sink.messages().is_empty());
    drop(db);

    // The server takes our sender again (its admin mended it): every mail goes, once.
    sink.refuse_data(None);
    each_mail_arrives_once(&alpha, &sink, &people).await;
}

/// One content refusal after the data, or two in a row, among mails the server takes, are the
/// mails' own: they are parked, at their first try, and hold up nobody (a mail taken between
/// ends a run of refusals: the third one is not counted with the first two).
#[tokio::test]
async fn mails_refused_after_their_data_among_mails_taken_are_parked() {
    let (sink, log) = spam_parked_and_bonjour_sent([
        ("lena", "Spam, one"),
        ("marie", "Spam, two"),
        ("paul", "Bonjour"),
        ("olga", "Spam, three"),
    ])
    .await;
    assert!(!log.contains("sending paused"), "{log}");
    assert!(!log.contains("go back to the queue"), "{log}");
    for name in ["lena", "marie", "olga"] {
        assert_eq!(sink.to(&format!("{name}@example.org")).len(), 1, "{name}");
    }
}

/// Three mails refused for their content after their data, with the same reply, look like a
/// refusal of our sender: sending pauses and they go back to the queue. But the judgement
/// must meet a mail it did not rest on: the fourth mail, tried before them after the pause,
/// is taken, which disproves it, and the three are parked then. (They used to be retried
/// first after each pause, judged the sender's again, and hold the fourth for ever.)
#[tokio::test]
async fn a_refusal_judged_the_senders_is_disproven_by_a_mail_taken() {
    let (_sink, log) = spam_parked_and_bonjour_sent([
        ("lena", "Spam, one"),
        ("marie", "Spam, two"),
        ("olga", "Spam, three"),
        ("paul", "Bonjour"),
    ])
    .await;
    // It was judged the sender's once (the pause), then disproven.
    assert_eq!(log.matches("sending paused").count(), 1, "{log}");
    assert!(
        log.contains("mails parked for the same refusal go back to the queue"),
        "{log}"
    );
}

/// Queues each (person, subject) of `batch` in one batch, the people registered first (paul's
/// mail is "Bonjour", the others' the sink refuses as spam); waits until paul's arrives and
/// the other three are parked at their first try for that refusal, nothing else queued.
/// Returns the sink and the instance's log.
async fn spam_parked_and_bonjour_sent(batch: [(&str, &str); 4]) -> (SmtpSink, String) {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let people = registered(&alpha, &sink, &batch.map(|(name, _)| name)).await;
    let ctx = core_context(&alpha, &sink);
    let mails: Vec<(i64, &str)> = people
        .iter()
        .zip(batch)
        .map(|(person, (_, subject))| (*person, subject))
        .collect();
    queue_in_one_batch(&ctx, &mails).await;

    let mails = sink.wait_for("paul@example.org", 2, DEADLINE).await;
    assert_eq!(mails[1]["headers"]["subject"], "Bonjour");
    eventually("the three refused mails parked", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let parked = number(
            &mut db,
            "SELECT count(*) FROM mail_queue WHERE to_address IN ('lena@example.org', \
             'marie@example.org', 'olga@example.org') AND parked_at IS NOT NULL \
             AND attempts = 1 AND last_error LIKE 'permanent error (554): 5.7.1 Message \
             rejected as spam%'",
        )
        .await;
        let queued = number(&mut db, "SELECT count(*) FROM mail_queue").await;
        (parked == 3 && queued == 3).then_some(())
    })
    .await;
    let log = alpha.log();
    (sink, log)
}

/// A shutdown is not held up by a hand-back the database keeps refusing: the worker tries once
/// more and stops, where it used to try until the mail's lease ran out (here over 20 minutes:
/// two mails at their worst, each with the default 10 minutes' wait for its data's reply),
/// past the 60 s `stop` gives a process to exit.
#[tokio::test]
async fn a_shutdown_is_not_held_up_by_a_hand_back_the_database_refuses() {
    // The mail server is down: the worker hands its mail back.
    let sink = SmtpSink::new();
    let (_hosts, mut alpha) = mail_instance("alpha", &sink, &[]);
    refuse_hand_backs(&mut connect(&alpha).await).await;
    register(&alpha, "lena", "lena@example.org", "en").await;
    let a = &alpha;
    eventually("the hand-back to fail", DEADLINE, || async move {
        a.log()
            .contains("handing mails back failed; trying again")
            .then_some(())
    })
    .await;

    // Panics if the process has not exited within 60 s.
    alpha.stop();
    let log = alpha.log();
    let given_up = log
        .lines()
        .find(|line| line.contains("handing mails back failed; they go back when their lease"))
        .unwrap_or_else(|| panic!("no end to the hand-back's tries:\n{log}"));
    assert!(given_up.contains("shutting_down=true"), "{given_up}");
    assert!(log.contains("mail worker stopped"), "{log}");
}

/// People registered (their verification mails received, the queue empty), by row id.
async fn registered(alpha: &Instance, sink: &SmtpSink, names: &[&str]) -> Vec<i64> {
    let mut ids = Vec::new();
    for name in names {
        let address = format!("{name}@example.org");
        register(alpha, name, &address, "en").await;
        sink.wait_for(&address, 1, DEADLINE).await;
        let mut db = connect(alpha).await;
        let query = format!("SELECT id FROM person WHERE username = '{name}'");
        ids.push(number(&mut db, &query).await);
    }
    queue_empties(alpha).await;
    ids
}

/// Queues one mail per (person, subject), in one transaction: the worker claims them in one
/// batch, in this order. A subject starting with "Stall" hangs the sink's session. Of a kind
/// sent whatever the member's preferences and carrying no link (a notice of an address
/// change), so that an admin's retry puts it back as it is.
async fn queue_in_one_batch(ctx: &Context, mails: &[(i64, &str)]) {
    ctx.transaction(|conn| {
        async move {
            for (person_id, subject) in mails {
                let content =
                    |_| MailContent::compose((*subject).into(), "Hello,", &[], None, "alpha");
                mail::enqueue_mail(conn, ctx, *person_id, MailKind::EmailChanged, content).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}

/// A server that stops answering mid-session (no reply after a message's data) costs that
/// mail an attempt once `email.data_reply_timeout_seconds` ran out, and the mails behind it
/// go: lettre's own timeout bounds the connection only, and the worker used to wait for that
/// reply for ever, every mail of the instance with it.
#[tokio::test]
async fn a_session_that_stalls_costs_its_mail_an_attempt_not_the_whole_queue() {
    let sink = SmtpSink::started();
    let env = [
        ("CENACLE_EMAIL__TIMEOUT_SECONDS", "2"),
        ("CENACLE_EMAIL__DATA_REPLY_TIMEOUT_SECONDS", "2"),
    ];
    let (_hosts, alpha) = mail_instance("alpha", &sink, &env);
    let people = registered(&alpha, &sink, &["lena", "paul"]).await;
    let ctx = core_context(&alpha, &sink);
    queue_in_one_batch(&ctx, &[(people[0], "Stalled"), (people[1], "Bonjour")]).await;

    let mails = sink.wait_for("paul@example.org", 2, DEADLINE).await;
    assert_eq!(mails[1]["headers"]["subject"], "Bonjour");
    eventually("lena's mail retried later", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let query = "SELECT count(*) FROM mail_queue WHERE to_address = 'lena@example.org' \
                     AND attempts >= 1 AND parked_at IS NULL AND last_error LIKE \
                     'the SMTP server did not answer the mail''s data within 2 s%'";
        (number(&mut db, query).await == 1).then_some(())
    })
    .await;
    assert!(sink.stalls() >= 1);
    assert!(!alpha.log().contains("sending paused"), "{}", alpha.log());
}

/// A server that stops answering before a mail's data ends (here at its recipient) has not
/// got the mail: it costs the mail an attempt after `email.timeout_seconds`, to be sent again
/// later, without the wait for a data's reply (ten minutes here) spent on it.
#[tokio::test]
async fn a_session_that_stalls_before_the_data_ends_costs_an_attempt_after_the_session_time() {
    let sink = SmtpSink::started();
    let env = [("CENACLE_EMAIL__TIMEOUT_SECONDS", "2")];
    let (_hosts, alpha) = mail_instance("alpha", &sink, &env);
    register(&alpha, "lena", "lena@silent.example", "en").await;
    eventually("lena's mail retried later", DEADLINE, || async {
        let mut db = connect(&alpha).await;
        let query = "SELECT count(*) FROM mail_queue WHERE to_address = 'lena@silent.example' \
                     AND attempts >= 1 AND parked_at IS NULL AND last_error LIKE \
                     'the SMTP server did not take the mail''s data within 2 s%'";
        (number(&mut db, query).await == 1).then_some(())
    })
    .await;
    assert!(!alpha.log().contains("sending paused"), "{}", alpha.log());
}

/// A server slow to answer a mail's data (it has the mail: a reply after 5 s, past
/// `email.timeout_seconds`), or to answer the `QUIT` after it took one, gets each mail once,
/// and the mails leave the queue. The worker used to bound the whole session, `QUIT`
/// included, by `email.timeout_seconds`: both mails counted as unsent and went again, at
/// every retry.
#[tokio::test]
async fn a_server_slow_to_answer_the_data_or_the_quit_gets_each_mail_once() {
    let sink = SmtpSink::started();
    let env = [
        ("CENACLE_EMAIL__TIMEOUT_SECONDS", "2"),
        ("CENACLE_EMAIL__DATA_REPLY_TIMEOUT_SECONDS", "30"),
    ];
    let (_hosts, alpha) = mail_instance("alpha", &sink, &env);
    let people = registered(&alpha, &sink, &["lena", "paul", "marie"]).await;
    let ctx = core_context(&alpha, &sink);
    let batch = [
        (people[0], "Late reply"),
        (people[1], "Slow quit"),
        (people[2], "Bonjour"),
    ];
    queue_in_one_batch(&ctx, &batch).await;

    queue_empties(&alpha).await;
    for (name, subject) in [
        ("lena", "Late reply"),
        ("paul", "Slow quit"),
        ("marie", "Bonjour"),
    ] {
        let mails = sink.to(&format!("{name}@example.org"));
        let subjects: Vec<_> = mails.iter().map(|m| &m["headers"]["subject"]).collect();
        assert_eq!(mails.len(), 2, "{name}: {subjects:?}\n{}", alpha.log());
        assert_eq!(mails[1]["headers"]["subject"], subject);
    }
    assert!(!alpha.log().contains("mail not sent"), "{}", alpha.log());
}

/// A stop asked for while a batch is being sent sends nothing more: the mail in flight ends
/// (here its session runs out of time), the rest of the batch goes back to the queue unsent,
/// and the next start sends it, once. It used to be sent after the stop, when a database
/// going down too could not record it, and then again after the restart.
#[tokio::test]
async fn a_stop_mid_batch_sends_the_rest_at_the_next_start_not_after_the_stop() {
    let sink = SmtpSink::started();
    let env = [("CENACLE_EMAIL__TIMEOUT_SECONDS", "10")];
    let (_hosts, mut alpha) = mail_instance("alpha", &sink, &env);
    let people = registered(&alpha, &sink, &["lena", "paul", "marie"]).await;
    let ctx = core_context(&alpha, &sink);
    let batch = [
        (people[0], "Stalled"),
        (people[1], "Bonjour"),
        (people[2], "Bonjour"),
    ];
    queue_in_one_batch(&ctx, &batch).await;
    eventually(
        "the batch's first mail to be in flight",
        DEADLINE,
        || async { (sink.stalls() == 1).then_some(()) },
    )
    .await;
    drop(ctx);

    // Panics if the process has not exited within 60 s.
    alpha.stop();
    let log = alpha.log();
    for name in ["paul", "marie"] {
        let address = format!("{name}@example.org");
        assert_eq!(
            sink.to(&address).len(),
            1,
            "only {name}'s verification:\n{log}"
        );
    }
    let handed_back = log
        .lines()
        .find(|line| line.contains("stopping: mails not sent yet go back to the queue"))
        .unwrap_or_else(|| panic!("the rest of the batch not handed back:\n{log}"));
    assert!(handed_back.contains("mails=2"), "{handed_back}");
    // Handed back as they were: no attempt counted, no error, no lease, due at once (seen on
    // a start with mail off, whose worker does not take them).
    alpha.set_env("CENACLE_EMAIL__ENABLED", "false");
    alpha.start();
    let mut db = connect(&alpha).await;
    let as_queued = "SELECT count(*) FROM mail_queue WHERE to_address IN \
                     ('paul@example.org', 'marie@example.org') AND attempts = 0 \
                     AND last_error IS NULL AND locked_until IS NULL \
                     AND next_attempt_at <= now() AND parked_at IS NULL";
    assert_eq!(number(&mut db, as_queued).await, 2, "{log}");
    drop(db);
    alpha.stop();

    alpha.set_env("CENACLE_EMAIL__ENABLED", "true");
    alpha.start();
    for name in ["paul", "marie"] {
        let address = format!("{name}@example.org");
        let mails = sink.wait_for(&address, 2, DEADLINE).await;
        assert_eq!(mails[1]["headers"]["subject"], "Bonjour");
    }
    let unsent = "SELECT count(*) FROM mail_queue WHERE to_address <> 'lena@example.org'";
    eventually(
        "paul's and marie's mails to leave the queue",
        DEADLINE,
        || async {
            let mut db = connect(&alpha).await;
            (number(&mut db, unsent).await == 0).then_some(())
        },
    )
    .await;
    for name in ["paul", "marie"] {
        assert_eq!(
            sink.to(&format!("{name}@example.org")).len(),
            2,
            "sent once"
        );
    }
}

/// What the sink answers every mail's data while a test wants mails parked: a permanent
/// refusal, which the worker takes for the mails' own while fewer than three in a row meet it.
const POLICY_REFUSED: &str = "554 5.7.1 Rejected by local policy";

/// Queues a password reset to each of `people` while the sink refuses every mail's data;
/// returns once each is parked (at its first try, nothing else queued). The sink is left
/// refusing.
async fn parked_mails_to(alpha: &Instance, sink: &SmtpSink, people: &[i64]) {
    sink.refuse_data(Some(POLICY_REFUSED));
    let ctx = core_context(alpha, sink);
    let mails: Vec<(i64, &str)> = people.iter().map(|p| (*p, "Your reset link")).collect();
    queue_in_one_batch(&ctx, &mails).await;
    let expected = people.len() as i64;
    eventually("the mails parked", DEADLINE, || async {
        let mut db = connect(alpha).await;
        let parked = number(
            &mut db,
            "SELECT count(*) FROM mail_queue WHERE parked_at IS NOT NULL AND attempts = 1 \
             AND last_error LIKE 'permanent error (554)%'",
        )
        .await;
        let queued = number(&mut db, "SELECT count(*) FROM mail_queue").await;
        (parked == expected && queued == expected).then_some(())
    })
    .await;
}

/// Asks a password reset for each address, as anyone may (202 whether or not it is known).
async fn ask_resets(alpha: &Instance, addresses: &[&str]) {
    for address in addresses {
        let (status, _) = alpha
            .post(
                "/api/v1/account/password/forgot",
                None,
                json!({ "email": address }),
            )
            .await;
        assert_eq!(status, 202);
    }
}

/// Returns once `count` mails are parked.
async fn parked_count_reaches(alpha: &Instance, count: i64) {
    eventually(&format!("{count} mails parked"), DEADLINE, || async {
        let mut db = connect(alpha).await;
        let parked = number(
            &mut db,
            "SELECT count(*) FROM mail_queue WHERE parked_at IS NOT NULL",
        )
        .await;
        (parked == count).then_some(())
    })
    .await;
}

/// The id of the parked mail of `page` (the API's list) that `is` picks: `what` names it for
/// the failure message.
fn parked_id(page: &Value, what: &str, is: impl Fn(&Value) -> bool) -> i64 {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| is(m))
        .unwrap_or_else(|| panic!("{what} listed: {page}"))["id"]
        .as_i64()
        .unwrap()
}

/// The id of the parked mail of `page` to `address`.
fn parked_id_to(page: &Value, address: &str) -> i64 {
    parked_id(page, address, |m| m["to_address"] == address)
}

/// Mails the SMTP server refused for good are parked; once it takes mail again, an admin
/// lists them (to whom, what, why; never their bodies, which carry the reset link) and puts
/// one back in line by id, the other with "retry all": each is sent, once, and the list is
/// empty. A member may do none of it; a mail not parked (waiting, or sent) cannot be retried.
#[tokio::test]
async fn an_admin_retries_parked_mails_once_the_mail_server_takes_them() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let admin = alpha.admin().await;
    let member = alpha.member("bob").await;
    let people = registered(&alpha, &sink, &["lena", "marie"]).await;
    parked_mails_to(&alpha, &sink, &people).await;

    let parked = "/api/v1/admin/mail/parked";
    let (status, page) = alpha.get(&format!("{parked}?limit=1"), Some(&admin)).await;
    assert_eq!(status, 200, "{page}");
    let lena = &page["items"][0];
    let mut fields: Vec<_> = lena.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "attempts",
            "created_at",
            "id",
            "kind",
            "last_error",
            "parked_at",
            "subject",
            "to_address"
        ],
        "no body: {lena}"
    );
    assert_eq!(lena["to_address"], "lena@example.org");
    assert_eq!(lena["kind"], "email_changed");
    assert_eq!(lena["subject"], "Your reset link");
    assert_eq!(lena["attempts"], 1);
    assert!(
        lena["last_error"]
            .as_str()
            .unwrap()
            .contains("Rejected by local policy"),
        "{lena}"
    );
    // Paged by id, as the outbox's failures are.
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let (_, next) = alpha
        .get(&format!("{parked}?limit=1&cursor={cursor}"), Some(&admin))
        .await;
    assert_eq!(
        next["items"][0]["to_address"], "marie@example.org",
        "{next}"
    );
    assert!(next["next_cursor"].is_null(), "{next}");

    // A member sees none of it and retries nothing.
    let lena_id = lena["id"].as_i64().unwrap();
    let retry_lena = format!("{parked}/{lena_id}/retry");
    let retry_all = format!("{parked}/retry");
    for (status, body) in [
        alpha.get(parked, Some(&member)).await,
        alpha.post(&retry_lena, Some(&member), json!({})).await,
        alpha.post(&retry_all, Some(&member), json!({})).await,
    ] {
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{body}"
        );
    }

    // The server takes mail again: the admin puts lena's back, and it is sent.
    sink.refuse_data(None);
    let (status, body) = alpha.post(&retry_lena, Some(&admin), json!({})).await;
    assert_eq!(status, 204, "{body}");
    // Back in line, it is no longer parked: a second retry finds no such parked mail (404, as
    // the outbox's), whether it is still waiting or already sent.
    let (status, body) = alpha.post(&retry_lena, Some(&admin), json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("mail_not_parked")),
        "{body}"
    );
    let mails = sink.wait_for("lena@example.org", 2, DEADLINE).await;
    assert_eq!(mails[1]["headers"]["subject"], "Your reset link");

    // "Retry all" to another domain puts back nothing; to every domain, marie's.
    let (status, body) = alpha
        .post(&retry_all, Some(&admin), json!({"domain": "other.example"}))
        .await;
    assert_eq!((status, &body["retried"]), (200, &json!(0)), "{body}");
    let (status, body) = alpha
        .post(
            &retry_all,
            Some(&admin),
            json!({"domain": "marie@example.org"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation_failed")),
        "{body}"
    );
    // An empty or blank domain is a mistake, not "all": only a missing one means all.
    for blank in ["", "  "] {
        let (status, body) = alpha
            .post(&retry_all, Some(&admin), json!({"domain": blank}))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("validation_failed")),
            "{body}"
        );
    }
    let (status, body) = alpha.post(&retry_all, Some(&admin), json!({})).await;
    assert_eq!(
        (status, &body["retried"], &body["dropped"]),
        (200, &json!(1), &json!(0)),
        "{body}"
    );
    sink.wait_for("marie@example.org", 2, DEADLINE).await;

    queue_empties(&alpha).await;
    let (_, page) = alpha.get(parked, Some(&admin)).await;
    assert_eq!(page["items"], json!([]), "{page}");
    let (status, body) = alpha.post(&retry_lena, Some(&admin), json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("mail_not_parked")),
        "{body}"
    );
    // Each arrived once: the verification mail, then the reset.
    for name in ["lena", "marie"] {
        assert_eq!(sink.to(&format!("{name}@example.org")).len(), 2, "{name}");
    }
}

/// The admin's page of parked mails, in a real browser: the mail is listed with its error;
/// "Retry" puts it back in line, it leaves the list and is sent.
#[tokio::test]
async fn an_admin_retries_a_parked_mail_from_the_page() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    alpha.admin().await;
    let people = registered(&alpha, &sink, &["lena"]).await;
    parked_mails_to(&alpha, &sink, &people).await;
    sink.refuse_data(None);

    let b = Browser::start("en").await;
    b.sign_in(&alpha, "admin").await;
    b.click("header a[href='/admin/accounts']").await;
    b.click("nav a[href='/admin/mail']").await;
    let row = b.find("tr[id^='mail-']").await;
    let text = row.text().await.unwrap();
    assert!(text.contains("lena@example.org"), "{text}");
    assert!(text.contains("Rejected by local policy"), "{text}");
    b.key_page("admin-mail-en").await;

    b.click_and_wait_reload("tr[id^='mail-'] form button").await;
    b.wait_path("the parked mails again", |p| p == "/admin/mail")
        .await;
    b.find("#no-parked-mail").await;
    b.wait_count("tr[id^='mail-']", 0).await;
    sink.wait_for("lena@example.org", 2, DEADLINE).await;
    b.close().await;
}

/// A parked notification whose member has since refused notifications is not what "retry all"
/// should send weeks later: it is deleted, counted as dropped, and nothing arrives; retrying
/// it by id then finds nothing. Nor is a reset whose link has expired meanwhile. A mail one
/// cannot refuse, its link live, parked beside them, still goes.
#[tokio::test]
async fn retrying_drops_a_parked_mail_its_member_no_longer_wants() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let admin = alpha.admin().await;
    let session = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    let (_, me) = alpha.get("/api/v1/account/me", Some(&session)).await;
    let person_id = me["id"].as_i64().unwrap();
    queue_empties(&alpha).await;
    let before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();

    // A notification to hugo and a password reset to each, all refused for good by the mail
    // server (two recipients: not judged a refusal of our sender).
    sink.refuse_data(Some(POLICY_REFUSED));
    let ctx = core_context(&alpha, &sink);
    assert!(queue_notification(&ctx, person_id).await);
    ask_resets(&alpha, &["hugo@example.org", "iris@example.org"]).await;
    parked_count_reaches(&alpha, 3).await;
    // iris's link expires meanwhile (an hour, while the mail waits parked): sent now, it
    // would lead nowhere.
    let mut db = connect(&alpha).await;
    execute(
        &mut db,
        "UPDATE account_token SET expires_at = now() - interval '1 minute' \
         WHERE person_id = (SELECT person_id FROM local_user WHERE email = 'iris@example.org')",
    )
    .await;
    let (_, page) = alpha.get("/api/v1/admin/mail/parked", Some(&admin)).await;
    let notification_id = parked_id(&page, "the notification", |m| m["kind"] == "notifications");

    // The member refuses notifications meanwhile.
    let response = alpha
        .http
        .put(alpha.url("/api/v1/account/email/preferences"))
        .bearer_auth(&session)
        .json(&json!([{"kind": "notifications", "receive": false}]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    sink.refuse_data(None);
    let (status, body) = alpha
        .post("/api/v1/admin/mail/parked/retry", Some(&admin), json!({}))
        .await;
    assert_eq!(
        (status, &body["retried"], &body["dropped"]),
        (200, &json!(1), &json!(2)),
        "{body}"
    );
    // Which were dropped, by id and kind, oldest first: never their addresses.
    let iris_reset = parked_id_to(&page, "iris@example.org");
    let mut expected = vec![
        json!({"id": notification_id, "kind": "notifications"}),
        json!({"id": iris_reset, "kind": "password_reset"}),
    ];
    expected.sort_by_key(|m| m["id"].as_i64());
    assert_eq!(body["dropped_mails"], json!(expected), "{body}");
    assert!(!body.to_string().contains("@example.org"), "{body}");
    // hugo's reset arrives; once the queue is empty, his notification and iris's dead link
    // were never sent.
    sink.wait_for("hugo@example.org", before + 1, DEADLINE)
        .await;
    queue_empties(&alpha).await;
    let received = sink.to_except_welcome("hugo@example.org");
    assert_eq!(received.len(), before + 1, "only the reset");
    let subject = received[before]["headers"]["subject"].as_str().unwrap();
    assert!(subject.starts_with("Reset your password"), "{subject}");
    assert_eq!(
        sink.to_except_welcome("iris@example.org").len(),
        iris_before,
        "no dead link"
    );
    let (status, body) = alpha
        .post(
            &format!("/api/v1/admin/mail/parked/{notification_id}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("mail_not_parked")),
        "deleted, not parked: {body}"
    );
}

/// Sets `token`'s member's delivery of notification kinds (`{"reply": "off"}`…) through the
/// API.
async fn set_deliveries(alpha: &Instance, token: &str, deliveries: Value) {
    let response = alpha
        .http
        .put(alpha.url("/api/v1/notifications/preferences"))
        .bearer_auth(token)
        .json(&json!({ "preferences": deliveries }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The digest run as the server's periodic task runs it, by the clock `now`: how many digests
/// it queued.
async fn run_digests(ctx: &Context, now: chrono::DateTime<chrono::Utc>) -> usize {
    ctx.transaction(|conn| digests::send_due_digests(conn, ctx, now).scope_boxed())
        .await
        .unwrap()
}

/// `token`'s member joins `group` (`leave`: leaves it).
async fn join_or_leave(alpha: &Instance, token: &str, group: &str, leave: bool) {
    let action = if leave { "leave" } else { "join" };
    let (status, body) = alpha
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/groups/{group}/{action}"),
            Some(token),
            None,
        )
        .await;
    let expected = if leave { 204 } else { 200 };
    assert_eq!(status, expected, "{action} {group}: {body}");
}

/// The admin creates the private group `name`, invites each of `members` (username, session)
/// and each joins it.
async fn private_group(alpha: &Instance, admin: &str, name: &str, members: &[(&str, &str)]) {
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(admin),
            json!({"name": name, "title": name, "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for (username, token) in members {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/groups/{name}/invitations"),
                Some(admin),
                json!({ "handle": username }),
            )
            .await;
        assert_eq!(status, 204, "{body}");
        join_or_leave(alpha, token, name, false).await;
    }
}

/// `token`'s member posts `post` (its kind, title, body…) in `group`; its id.
async fn post_in(alpha: &Instance, token: &str, group: &str, post: Value) -> i64 {
    let (status, body) = alpha
        .post(&format!("/api/v1/groups/{group}/posts"), Some(token), post)
        .await;
    assert_eq!(status, 201, "{body}");
    body["post"]["id"].as_i64().unwrap()
}

/// `token`'s member asks the question `title` in `group`; its id.
async fn ask(alpha: &Instance, token: &str, group: &str, title: &str) -> i64 {
    post_in(
        alpha,
        token,
        group,
        json!({"kind": "question", "title": title}),
    )
    .await
}

/// A moderator (here the admin) removes the post or comment at `path` (`posts/1`…).
async fn remove(alpha: &Instance, admin: &str, path: &str) {
    let (status, body) = alpha
        .post(
            &format!("/api/v1/{path}/removal"),
            Some(admin),
            json!({"reason": "Off topic"}),
        )
        .await;
    assert_eq!(status, 204, "{path}: {body}");
}

/// "Retry all" by the admin: its answer, once a 200.
async fn retry_all(alpha: &Instance, admin: &str) -> Value {
    let (status, body) = alpha
        .post("/api/v1/admin/mail/parked/retry", Some(admin), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The addresses of the mails received whose subject or text quotes `text`.
fn quoting(sink: &SmtpSink, text: &str) -> Vec<String> {
    sink.messages()
        .iter()
        .filter(|m| {
            [&m["headers"]["subject"], &m["text"]]
                .iter()
                .any(|field| field.as_str().unwrap_or_default().contains(text))
        })
        .flat_map(|m| m["rcpt_tos"].as_array().cloned().unwrap_or_default())
        .map(|to| to.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Whether the parked or waiting mail `id`'s text quotes `text` (what the admin's list does not
/// show).
async fn queued_mail_quotes(alpha: &Instance, id: i64, text: &str) -> bool {
    let mut db = connect(alpha).await;
    let query = format!(
        "SELECT count(*) FROM mail_queue WHERE id = {id} AND strpos(text_body, '{}') > 0",
        text.replace('\'', "''")
    );
    number(&mut db, &query).await == 1
}

/// A notification mailed at once and a digest, both queued by the real paths (the mail worker
/// turning a reply's notification into a mail, the digest run), are parked; their members then
/// change the preference that decided them (replies off, replies no longer in the daily
/// digest, so no daily digest at all), and "retry all" deletes both, naming them; neither
/// arrives. A mention to the same member, whose kind he still has mailed at once, goes: what
/// is asked again is the preference of the mail's own notification kind, which only the
/// topic stored with the mail tells.
#[tokio::test]
async fn retrying_drops_a_parked_notification_and_digest_whose_preference_changed() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = with_coffee_group(&sink).await;
    let admin = alpha.login("admin").await;
    let hugo = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let iris = verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    // Without an address: only hugo and iris are mailed (two recipients: refusals of their
    // mails are not judged a refusal of our sender).
    let neighbour = alpha.member("neighbour").await;
    set_deliveries(&alpha, &iris, json!({"reply": "email_daily"})).await;
    let mut questions = Vec::new();
    for (asker, title) in [(&hugo, "Which grinder?"), (&iris, "Which beans?")] {
        let (status, body) = alpha
            .post(
                "/api/v1/groups/coffee/posts",
                Some(asker),
                json!({"kind": "question", "title": title}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        questions.push(body["post"]["id"].as_i64().unwrap());
    }
    queue_empties(&alpha).await;
    let hugo_before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();

    sink.refuse_data(Some(POLICY_REFUSED));
    // Replies to both: hugo's mailed at once, iris's kept for her daily digest; and a note
    // mentioning hugo, mailed at once.
    for question in &questions {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/posts/{question}/comments"),
                Some(&neighbour),
                json!({"body": "A burr grinder."}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = alpha
        .post(
            "/api/v1/groups/coffee/posts",
            Some(&neighbour),
            json!({"kind": "note", "title": "Roasts", "body": "What does @hugo think?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The digest run, by the clock of days to come: the first run may only start iris's
    // period (first seen), the next one owes her the digest.
    let ctx = core_context(&alpha, &sink);
    let mut digests_queued = 0;
    for days in 1..=3 {
        let now = chrono::Utc::now() + chrono::Duration::days(days);
        digests_queued += run_digests(&ctx, now).await;
        if digests_queued > 0 {
            break;
        }
    }
    assert_eq!(digests_queued, 1, "iris's daily digest");
    parked_count_reaches(&alpha, 3).await;
    let (_, page) = alpha.get("/api/v1/admin/mail/parked", Some(&admin)).await;
    let subject_has = |text: &'static str| {
        move |m: &Value| m["subject"].as_str().unwrap_or_default().contains(text)
    };
    let reply = parked_id(&page, "hugo's reply", subject_has("replied to"));
    let mention = parked_id(&page, "hugo's mention", subject_has("mentioned you"));
    let digest = parked_id(&page, "iris's digest", |m| m["kind"] == "digest");

    // hugo turns replies off (mentions still mailed at once); iris hears of replies in the
    // app only, so no kind of hers fills a daily digest any more.
    set_deliveries(&alpha, &hugo, json!({"reply": "off"})).await;
    set_deliveries(&alpha, &iris, json!({"reply": "in_app"})).await;

    sink.refuse_data(None);
    let (status, body) = alpha
        .post("/api/v1/admin/mail/parked/retry", Some(&admin), json!({}))
        .await;
    assert_eq!(
        (status, &body["retried"], &body["dropped"]),
        (200, &json!(1), &json!(2)),
        "the mention back in line, the reply and the digest deleted: {body}"
    );
    let mut expected = vec![
        json!({"id": reply, "kind": "notifications"}),
        json!({"id": digest, "kind": "digest"}),
    ];
    expected.sort_by_key(|m| m["id"].as_i64());
    assert_eq!(body["dropped_mails"], json!(expected), "{body}");
    assert_eq!(body["dropped_mails_truncated"], false, "{body}");

    let mails = sink
        .wait_for("hugo@example.org", hugo_before + 1, DEADLINE)
        .await;
    let subject = mails[hugo_before]["headers"]["subject"].as_str().unwrap();
    assert!(subject.contains("mentioned you"), "{subject}");
    queue_empties(&alpha).await;
    assert_eq!(
        sink.to_except_welcome("hugo@example.org").len(),
        hugo_before + 1,
        "only the mention"
    );
    assert_eq!(
        sink.to_except_welcome("iris@example.org").len(),
        iris_before,
        "no digest"
    );
    let (_, page) = alpha.get("/api/v1/admin/mail/parked", Some(&admin)).await;
    assert_eq!(page["items"], json!([]), "{page}");
    let (status, _) = alpha
        .post(
            &format!("/api/v1/admin/mail/parked/{mention}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "sent, no longer parked");
}

/// A notification mail quotes what it tells of (its post's title, in its subject): parked,
/// then retried, it must not reach its member once that is no longer theirs to read. hugo's
/// reply in a private group he has since left, iris's reply since deleted by its author, her
/// mention in a note since deleted and hugo's mention in a note a moderator removed since,
/// all queued by the real paths and parked, are deleted by "retry all", named; none arrives,
/// and the private group's title reaches nobody outside it. iris's reply in the same private
/// group goes: she stayed in it. hugo's reply in the public group goes, and so does the notice
/// that his comment was removed: its comment was removed before that mail was queued (that is
/// its news), not since.
#[tokio::test]
async fn retrying_drops_a_parked_notification_about_content_taken_down_or_a_group_left() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = with_coffee_group(&sink).await;
    let admin = alpha.login("admin").await;
    let hugo = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let iris = verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    // Without an address: only hugo and iris are mailed (two recipients: refusals of their
    // mails are not judged a refusal of our sender).
    let neighbour = alpha.member("neighbour").await;
    let members = [
        ("hugo", &*hugo),
        ("iris", &*iris),
        ("neighbour", &*neighbour),
    ];
    private_group(&alpha, &admin, "vault", &members).await;
    let secret = ask(&alpha, &hugo, "vault", "The secret roadmap?").await;
    let key = ask(&alpha, &iris, "vault", "Who keeps the key?").await;
    let grinder = ask(&alpha, &hugo, "coffee", "Which grinder?").await;
    let beans = ask(&alpha, &iris, "coffee", "Which beans?").await;
    // hugo's own word on his question (it tells nobody), to be removed by a moderator.
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{grinder}/comments"),
            Some(&hugo),
            json!({"body": "Mine is broken."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let hugos_comment = body["id"].as_i64().unwrap();
    queue_empties(&alpha).await;
    let hugo_before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();

    sink.refuse_data(Some(POLICY_REFUSED));
    // Replies to the four questions, mailed at once (hugo's two, iris's two); a note
    // mentioning iris and one mentioning hugo; the removal of hugo's comment, told to him.
    let mut replies = Vec::new();
    for question in [secret, key, grinder, beans] {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/posts/{question}/comments"),
                Some(&neighbour),
                json!({"body": "A burr grinder."}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        replies.push(body["id"].as_i64().unwrap());
    }
    let mut notes = Vec::new();
    for (title, body) in [
        ("Roasts", "What does @iris think?"),
        ("Brews", "What does @hugo think?"),
    ] {
        let note = json!({"kind": "note", "title": title, "body": body});
        notes.push(post_in(&alpha, &neighbour, "coffee", note).await);
    }
    remove(&alpha, &admin, &format!("comments/{hugos_comment}")).await;
    parked_count_reaches(&alpha, 7).await;
    let (_, page) = alpha.get("/api/v1/admin/mail/parked", Some(&admin)).await;
    let to_about = |to: &'static str, text: &'static str| {
        move |m: &Value| {
            m["to_address"] == to && m["subject"].as_str().unwrap_or_default().contains(text)
        }
    };
    let in_vault = parked_id(
        &page,
        "hugo's reply in the vault",
        to_about("hugo@example.org", "The secret roadmap?"),
    );
    let on_key = parked_id(
        &page,
        "iris's reply in the vault",
        to_about("iris@example.org", "replied to “Who keeps the key?”"),
    );
    let on_grinder = parked_id(
        &page,
        "hugo's reply on the grinder",
        to_about("hugo@example.org", "replied to “Which grinder?”"),
    );
    let removal = parked_id(
        &page,
        "hugo's removal notice",
        to_about("hugo@example.org", "decision"),
    );
    let on_beans = parked_id(
        &page,
        "iris's reply on the beans",
        to_about("iris@example.org", "Which beans?"),
    );
    let iris_mention = parked_id(
        &page,
        "iris's mention",
        to_about("iris@example.org", "mentioned you"),
    );
    let hugo_mention = parked_id(
        &page,
        "hugo's mention",
        to_about("hugo@example.org", "mentioned you"),
    );

    // hugo leaves the private group (iris stays); neighbour deletes his reply to iris's
    // question on the beans and his note naming her; a moderator removes his note naming hugo.
    join_or_leave(&alpha, &hugo, "vault", true).await;
    for path in [
        format!("/api/v1/comments/{}", replies[3]),
        format!("/api/v1/posts/{}", notes[0]),
    ] {
        let (status, body) = alpha
            .call(reqwest::Method::DELETE, &path, Some(&neighbour), None)
            .await;
        assert_eq!(status, 204, "{path}: {body}");
    }
    remove(&alpha, &admin, &format!("posts/{}", notes[1])).await;

    sink.refuse_data(None);
    let body = retry_all(&alpha, &admin).await;
    assert_eq!(
        (&body["retried"], &body["dropped"]),
        (&json!(3), &json!(4)),
        "the grinder's reply, the removal notice and iris's reply in the vault back in line; \
         the rest deleted: {body}"
    );
    let mut expected: Vec<Value> = [in_vault, on_beans, iris_mention, hugo_mention]
        .into_iter()
        .map(|id| json!({"id": id, "kind": "notifications"}))
        .collect();
    expected.sort_by_key(|m| m["id"].as_i64());
    assert_eq!(body["dropped_mails"], json!(expected), "{body}");

    let mails = sink
        .wait_for("hugo@example.org", hugo_before + 2, DEADLINE)
        .await;
    let iris_mails = sink
        .wait_for("iris@example.org", iris_before + 1, DEADLINE)
        .await;
    queue_empties(&alpha).await;
    let received = sink.to_except_welcome("hugo@example.org");
    assert_eq!(received.len(), hugo_before + 2, "the two still wanted");
    let mut subjects: Vec<&str> = mails[hugo_before..]
        .iter()
        .map(|m| m["headers"]["subject"].as_str().unwrap())
        .collect();
    subjects.sort();
    assert!(
        subjects[0].contains("decision on “Which grinder?”")
            && subjects[1].contains("replied to “Which grinder?”"),
        "{subjects:?}"
    );
    assert_eq!(
        sink.to_except_welcome("iris@example.org").len(),
        iris_before + 1,
        "her reply in the vault, nothing of deleted content"
    );
    let subject = iris_mails[iris_before]["headers"]["subject"]
        .as_str()
        .unwrap();
    assert!(
        subject.contains("replied to “Who keeps the key?”"),
        "{subject}"
    );
    assert_eq!(
        quoting(&sink, "secret roadmap"),
        Vec::<String>::new(),
        "the title of the group hugo left reached nobody"
    );
    let (_, page) = alpha.get("/api/v1/admin/mail/parked", Some(&admin)).await;
    assert_eq!(page["items"], json!([]), "{page}");
    for id in [on_grinder, removal, on_key] {
        let (status, _) = alpha
            .post(
                &format!("/api/v1/admin/mail/parked/{id}/retry"),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(status, 404, "sent, no longer parked");
    }
}

/// A digest quotes the titles of posts in its member's groups: parked, then retried, it must
/// not reach its member once one of them is no longer theirs to read. hugo's and iris's daily
/// digests, queued by the real digest run, both quote a question asked in a private group
/// they are in; both are parked. hugo then leaves the group: "retry all" deletes his digest,
/// named, and puts back iris's, who stayed; hers arrives with the title, nothing reaches him.
#[tokio::test]
async fn retrying_drops_a_parked_digest_quoting_a_private_group_its_member_left() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let admin = alpha.admin().await;
    let hugo = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let iris = verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    // Without an address: only hugo and iris are mailed (two recipients: refusals of their
    // mails are not judged a refusal of our sender).
    let neighbour = alpha.member("neighbour").await;
    let members = [
        ("hugo", &*hugo),
        ("iris", &*iris),
        ("neighbour", &*neighbour),
    ];
    private_group(&alpha, &admin, "vault", &members).await;
    for token in [&hugo, &iris] {
        set_deliveries(&alpha, token, json!({"reply": "email_daily"})).await;
    }
    // Their periods start now: what is asked from here on is tomorrow's digest's news.
    let ctx = core_context(&alpha, &sink);
    let now = chrono::Utc::now();
    assert_eq!(run_digests(&ctx, now).await, 0, "first seen");
    ask(&alpha, &neighbour, "vault", "The secret roadmap?").await;
    queue_empties(&alpha).await;
    let hugo_before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();

    sink.refuse_data(Some(POLICY_REFUSED));
    let tomorrow = now + chrono::Duration::days(1);
    assert_eq!(run_digests(&ctx, tomorrow).await, 2, "hugo's and iris's");
    let to = ["hugo@example.org", "iris@example.org"];
    let [hugos, iris_digest] = parked_to(&alpha, &admin, to).await;
    for id in [hugos, iris_digest] {
        assert!(queued_mail_quotes(&alpha, id, "The secret roadmap?").await);
    }

    join_or_leave(&alpha, &hugo, "vault", true).await;
    sink.refuse_data(None);
    let body = retry_all(&alpha, &admin).await;
    assert_eq!(
        (&body["retried"], &body["dropped"], &body["dropped_mails"]),
        (
            &json!(1),
            &json!(1),
            &json!([{"id": hugos, "kind": "digest"}])
        ),
        "iris's digest back in line, hugo's deleted: {body}"
    );
    let mails = sink
        .wait_for("iris@example.org", iris_before + 1, DEADLINE)
        .await;
    queue_empties(&alpha).await;
    let subject = mails[iris_before]["headers"]["subject"].as_str().unwrap();
    assert!(subject.starts_with("Your daily summary on "), "{subject}");
    assert_eq!(
        quoting(&sink, "The secret roadmap?"),
        ["iris@example.org"],
        "the title reached iris, who stayed, and nobody else"
    );
    assert_eq!(
        sink.to_except_welcome("hugo@example.org").len(),
        hugo_before,
        "no digest to hugo"
    );
}

/// A digest quoting a post that a moderator removed after the digest was queued is deleted on
/// retry; one telling of a post removed before it was queued (its member's own post: the
/// notice of its removal is the news) goes. hugo's daily digest quotes a question of a
/// group he is in, iris's the removal of her question; both are parked; a moderator then
/// removes hugo's question: "retry all" deletes his digest, named, and iris's arrives.
#[tokio::test]
async fn retrying_drops_a_parked_digest_quoting_a_post_removed_since() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = with_coffee_group(&sink).await;
    let admin = alpha.login("admin").await;
    let hugo = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let iris = verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    let neighbour = alpha.member("neighbour").await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "tea", "title": "Tea"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    join_or_leave(&alpha, &hugo, "tea", false).await;
    set_deliveries(&alpha, &hugo, json!({"reply": "email_daily"})).await;
    set_deliveries(&alpha, &iris, json!({"moderation": "email_daily"})).await;
    let ctx = core_context(&alpha, &sink);
    let now = chrono::Utc::now();
    assert_eq!(run_digests(&ctx, now).await, 0, "first seen");
    let kettle = ask(&alpha, &neighbour, "tea", "Which kettle?").await;
    let stale = ask(&alpha, &iris, "coffee", "Stale beans?").await;
    remove(&alpha, &admin, &format!("posts/{stale}")).await;
    queue_empties(&alpha).await;
    let hugo_before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();

    sink.refuse_data(Some(POLICY_REFUSED));
    let tomorrow = now + chrono::Duration::days(1);
    assert_eq!(run_digests(&ctx, tomorrow).await, 2, "hugo's and iris's");
    let to = ["hugo@example.org", "iris@example.org"];
    let [hugos, iris_digest] = parked_to(&alpha, &admin, to).await;
    assert!(queued_mail_quotes(&alpha, hugos, "Which kettle?").await);
    assert!(queued_mail_quotes(&alpha, iris_digest, "Stale beans?").await);

    remove(&alpha, &admin, &format!("posts/{kettle}")).await;
    sink.refuse_data(None);
    let body = retry_all(&alpha, &admin).await;
    assert_eq!(
        (&body["retried"], &body["dropped"], &body["dropped_mails"]),
        (
            &json!(1),
            &json!(1),
            &json!([{"id": hugos, "kind": "digest"}])
        ),
        "iris's digest back in line, hugo's deleted: {body}"
    );
    sink.wait_for("iris@example.org", iris_before + 1, DEADLINE)
        .await;
    queue_empties(&alpha).await;
    assert_eq!(quoting(&sink, "Stale beans?"), ["iris@example.org"]);
    assert_eq!(
        quoting(&sink, "Which kettle?"),
        Vec::<String>::new(),
        "the removed question reached nobody"
    );
    assert_eq!(
        sink.to_except_welcome("hugo@example.org").len(),
        hugo_before,
        "no digest to hugo"
    );
}

/// Noon UTC `days` days from now: a digest run by a clock of days to come, at an hour its
/// digests are due whatever the time the test runs. The server's own digest task goes by the
/// wall clock: once these runs have moved the members' periods into the future it finds their
/// digests handled, and can neither send one nor take its period, even across
/// `email.digest_hour`.
fn noon_in(days: i64) -> chrono::DateTime<chrono::Utc> {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
}

/// The parked mails' ids to `addresses`, once as many are parked: each the only one to its
/// address.
async fn parked_to<const N: usize>(
    alpha: &Instance,
    admin: &str,
    addresses: [&str; N],
) -> [i64; N] {
    parked_count_reaches(alpha, N as i64).await;
    let (_, page) = alpha.get("/api/v1/admin/mail/parked", Some(admin)).await;
    addresses.map(|address| parked_id_to(&page, address))
}

/// A digest's notices are asked again on retry as the notification mails they stand for are:
/// by their notifications, as their member reads them now. First hugo's and jade's daily
/// digests tell of their place in a contest over the private group vault (its title, not a
/// post's); both are parked; hugo then leaves the vault: "retry all" deletes his digest,
/// named, and jade's, who stayed, arrives: the contest's title reaches her only. Then iris's
/// questions and one of jade's get replies; a moderator removes one of iris's after its reply
/// and before the digest run (after the news): her digest does not tell of it (no mail quotes
/// content taken down since its notification, when first queued as when retried), only of
/// the reply to her other question. Both digests are parked; a moderator then removes that
/// other question too: "retry all" deletes iris's and jade's arrives; neither of iris's
/// titles reached anyone. Two digests parked at a time: refusals of two recipients' mails are
/// not judged a refusal of our sender.
#[tokio::test]
async fn retrying_asks_a_parked_digests_notices_as_their_notification_mails_are_asked() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = with_coffee_group(&sink).await;
    let admin = alpha.login("admin").await;
    let hugo = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let iris = verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    let jade = verified_member(&alpha, &sink, "jade", "jade@example.org").await;
    // Without an address: only hugo, iris and jade are mailed.
    let neighbour = alpha.member("neighbour").await;
    let members = [
        ("hugo", &*hugo),
        ("jade", &*jade),
        ("neighbour", &*neighbour),
    ];
    private_group(&alpha, &admin, "vault", &members).await;
    set_deliveries(&alpha, &hugo, json!({"contest_result": "email_daily"})).await;
    let jade_deliveries = json!({"contest_result": "email_daily", "reply": "email_daily"});
    set_deliveries(&alpha, &jade, jade_deliveries).await;
    // iris hears of moderators' decisions in the app only: the removal of her question is
    // not mailed.
    let iris_deliveries = json!({"reply": "email_daily", "moderation": "in_app"});
    set_deliveries(&alpha, &iris, iris_deliveries).await;
    // Their periods start at the first run: what happens from here on is the next digest's.
    let ctx = core_context(&alpha, &sink);
    assert_eq!(
        run_digests(&ctx, noon_in(2)).await,
        0,
        "nothing to tell yet"
    );

    let now = chrono::Utc::now();
    let (status, body) = alpha
        .post(
            "/api/v1/contests",
            Some(&admin),
            json!({
                "title": "Vault cup",
                "starts_at": now - chrono::Duration::hours(1),
                "ends_at": now + chrono::Duration::days(1),
                "groups": ["vault"],
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let contest = body["id"].as_i64().unwrap();
    // hugo and jade each ask in the vault and get a like: they tie for the first place.
    let mut questions = Vec::new();
    for (token, title) in [(&hugo, "Which safe?"), (&jade, "Which lock?")] {
        let question = ask(&alpha, token, "vault", title).await;
        let (status, body) = alpha
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/posts/{question}/vote"),
                Some(&neighbour),
                Some(json!({"vote": "like"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        questions.push(question);
    }
    let (status, body) = alpha
        .post(
            &format!("/api/v1/contests/{contest}/close"),
            Some(&admin),
            json!({"prizes": [10]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    queue_empties(&alpha).await;
    let hugo_before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();
    let jade_before = sink.to_except_welcome("jade@example.org").len();

    sink.refuse_data(Some(POLICY_REFUSED));
    assert_eq!(run_digests(&ctx, noon_in(3)).await, 2, "hugo's and jade's");
    let to = ["hugo@example.org", "jade@example.org"];
    let [hugos, jades] = parked_to(&alpha, &admin, to).await;
    for id in [hugos, jades] {
        assert!(queued_mail_quotes(&alpha, id, "Vault cup").await);
    }
    join_or_leave(&alpha, &hugo, "vault", true).await;
    sink.refuse_data(None);
    let body = retry_all(&alpha, &admin).await;
    assert_eq!(
        (&body["retried"], &body["dropped"], &body["dropped_mails"]),
        (
            &json!(1),
            &json!(1),
            &json!([{"id": hugos, "kind": "digest"}])
        ),
        "jade's digest back in line, hugo's deleted: {body}"
    );
    sink.wait_for("jade@example.org", jade_before + 1, DEADLINE)
        .await;
    queue_empties(&alpha).await;
    assert_eq!(
        quoting(&sink, "Vault cup"),
        ["jade@example.org"],
        "the contest's title reached jade, who stayed in the vault, and nobody else"
    );

    let stale = ask(&alpha, &iris, "coffee", "Stale beans?").await;
    let fresh = ask(&alpha, &iris, "coffee", "Fresh beans?").await;
    for question in [stale, fresh, questions[1]] {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/posts/{question}/comments"),
                Some(&neighbour),
                json!({"body": "Freeze them."}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    remove(&alpha, &admin, &format!("posts/{stale}")).await;
    queue_empties(&alpha).await;
    sink.refuse_data(Some(POLICY_REFUSED));
    assert_eq!(run_digests(&ctx, noon_in(4)).await, 2, "iris's and jade's");
    let to = ["iris@example.org", "jade@example.org"];
    let [iris_digest, jades] = parked_to(&alpha, &admin, to).await;
    assert!(
        !queued_mail_quotes(&alpha, iris_digest, "Stale beans?").await,
        "the reply to the question removed since is not told"
    );
    assert!(queued_mail_quotes(&alpha, iris_digest, "Fresh beans?").await);
    assert!(queued_mail_quotes(&alpha, jades, "Which lock?").await);
    remove(&alpha, &admin, &format!("posts/{fresh}")).await;
    sink.refuse_data(None);
    let body = retry_all(&alpha, &admin).await;
    assert_eq!(
        (&body["retried"], &body["dropped"], &body["dropped_mails"]),
        (
            &json!(1),
            &json!(1),
            &json!([{"id": iris_digest, "kind": "digest"}])
        ),
        "jade's digest back in line, iris's deleted: {body}"
    );
    sink.wait_for("jade@example.org", jade_before + 2, DEADLINE)
        .await;
    queue_empties(&alpha).await;
    for title in ["Stale beans?", "Fresh beans?"] {
        assert_eq!(
            quoting(&sink, title),
            Vec::<String>::new(),
            "the removed question {title} reached nobody"
        );
    }
    for (address, before) in [
        ("hugo@example.org", hugo_before),
        ("iris@example.org", iris_before),
    ] {
        let received = sink.to_except_welcome(address).len();
        assert_eq!(received, before, "no digest to {address}");
    }
}

/// A notification mailed at once is queued by the mail worker on its next pass, after the
/// notification was written: what it tells of, taken down in between, is not mailed (as a
/// retry of the mail would not send it). Here the worker is held up by a server stalling on
/// another mail while hugo's and iris's questions get replies and a moderator removes hugo's:
/// once the worker is free, iris's reply is mailed and hugo's is not, and the removed
/// question's title reaches nobody; hugo still finds the reply in the app.
#[tokio::test]
async fn a_notification_whose_post_was_removed_before_the_worker_mailed_it_is_not_mailed() {
    let sink = SmtpSink::started();
    // The stall holds the worker up to these 10 s; the stalled mail waits an hour after it.
    let env = [
        ("CENACLE_EMAIL__TIMEOUT_SECONDS", "10"),
        ("CENACLE_EMAIL__DATA_REPLY_TIMEOUT_SECONDS", "10"),
        ("CENACLE_EMAIL__RETRY_FIRST_DELAY_SECONDS", "3600"),
    ];
    let (_hosts, alpha) = mail_instance("alpha", &sink, &env);
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "coffee", "title": "Coffee"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let hugo = verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    let iris = verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    // The removal of his question is told to hugo in the app only: no mail names it.
    set_deliveries(&alpha, &hugo, json!({"moderation": "in_app"})).await;
    let neighbour = alpha.member("neighbour").await;
    let grinder = ask(&alpha, &hugo, "coffee", "Which grinder?").await;
    let beans = ask(&alpha, &iris, "coffee", "Which beans?").await;
    let lena = registered(&alpha, &sink, &["lena"]).await;
    let hugo_before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();

    let ctx = core_context(&alpha, &sink);
    queue_in_one_batch(&ctx, &[(lena[0], "Stalled")]).await;
    eventually("the worker to be held up", DEADLINE, || async {
        (sink.stalls() == 1).then_some(())
    })
    .await;
    for question in [grinder, beans] {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/posts/{question}/comments"),
                Some(&neighbour),
                json!({"body": "A burr grinder."}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    remove(&alpha, &admin, &format!("posts/{grinder}")).await;
    let mut db = connect(&alpha).await;
    assert_eq!(
        number(
            &mut db,
            "SELECT count(*) FROM notification WHERE mail_due IS NOT NULL"
        )
        .await,
        2,
        "both replies still to be mailed: the worker is held up"
    );

    let mails = sink
        .wait_for("iris@example.org", iris_before + 1, DEADLINE)
        .await;
    let subject = mails[iris_before]["headers"]["subject"].as_str().unwrap();
    assert!(subject.contains("replied to “Which beans?”"), "{subject}");
    // Both marks were taken in the pass that queued iris's mail: hugo's was queued then, or
    // never.
    let mails_of_notifications = "SELECT count(*) FROM mail_queue WHERE kind = 'notifications'";
    eventually(
        "the notification mails to leave the queue",
        DEADLINE,
        || async {
            let mut db = connect(&alpha).await;
            let due = "SELECT count(*) FROM notification WHERE mail_due IS NOT NULL";
            (number(&mut db, due).await == 0 && number(&mut db, mails_of_notifications).await == 0)
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        sink.to_except_welcome("hugo@example.org").len(),
        hugo_before,
        "no mail to hugo"
    );
    assert_eq!(quoting(&sink, "Which grinder?"), Vec::<String>::new());
    let (_, body) = alpha.get("/api/v1/notifications", Some(&hugo)).await;
    let replies: Vec<&Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "reply")
        .collect();
    assert_eq!(replies.len(), 1, "still in the app: {body}");
    assert_eq!(replies[0]["post_id"], grinder, "{body}");
}

/// Retried by id, a parked mail no longer wanted is refused with 409 `mail_no_longer_wanted`,
/// and deleted all the same: the list no longer shows it, a second retry finds nothing, and
/// it never arrives. Here a password reset whose member was suspended since it was parked: its
/// link must not let them back in. Another member's parked reset, retried, still arrives.
#[tokio::test]
async fn a_single_retry_of_a_mail_no_longer_wanted_is_refused_and_the_mail_deleted() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    let admin = alpha.admin().await;
    verified_member(&alpha, &sink, "hugo", "hugo@example.org").await;
    verified_member(&alpha, &sink, "iris", "iris@example.org").await;
    queue_empties(&alpha).await;
    let before = sink.to_except_welcome("hugo@example.org").len();
    let iris_before = sink.to_except_welcome("iris@example.org").len();

    sink.refuse_data(Some(POLICY_REFUSED));
    ask_resets(&alpha, &["hugo@example.org", "iris@example.org"]).await;
    parked_count_reaches(&alpha, 2).await;
    let parked = "/api/v1/admin/mail/parked";
    let (_, page) = alpha.get(parked, Some(&admin)).await;
    let (hugo_reset, iris_reset) = (
        parked_id_to(&page, "hugo@example.org"),
        parked_id_to(&page, "iris@example.org"),
    );

    // hugo is suspended meanwhile.
    let mut db = connect(&alpha).await;
    execute(
        &mut db,
        "UPDATE local_user SET status = 'suspended' WHERE email = 'hugo@example.org'",
    )
    .await;

    sink.refuse_data(None);
    let retry_hugo = format!("{parked}/{hugo_reset}/retry");
    let (status, body) = alpha.post(&retry_hugo, Some(&admin), json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("mail_no_longer_wanted")),
        "{body}"
    );
    let (_, page) = alpha.get(parked, Some(&admin)).await;
    let listed: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [iris_reset], "hugo's reset is gone: {page}");
    let (status, body) = alpha.post(&retry_hugo, Some(&admin), json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("mail_not_parked")),
        "deleted, not parked: {body}"
    );

    let (status, body) = alpha
        .post(
            &format!("{parked}/{iris_reset}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    sink.wait_for("iris@example.org", iris_before + 1, DEADLINE)
        .await;
    queue_empties(&alpha).await;
    assert_eq!(
        sink.to_except_welcome("hugo@example.org").len(),
        before,
        "no reset to a suspended member"
    );
}

/// The French page of parked mails, paged like the API: the first page lists the oldest 200,
/// a "Page suivante" link carries the cursor to the rest, a "Première page" link leads back,
/// and "Réessayer" comes back to the page it was clicked on. A domain refused by "Tout
/// réessayer" is said beside the field even when the list emptied meanwhile (the mails were
/// sent, or retried by another admin): the form is not hidden with its error.
#[tokio::test]
async fn the_french_page_of_parked_mails_pages_and_keeps_a_refusal_when_emptied() {
    let sink = SmtpSink::started();
    let (_hosts, alpha) = mail_instance("alpha", &sink, &[]);
    alpha.admin().await;
    // 201 mails parked after a refusal, to nobody's account (the worker never sees them).
    let mut db = connect(&alpha).await;
    execute(
        &mut db,
        "INSERT INTO mail_queue (kind, to_address, subject, text_body, html_body, message_id, \
           attempts, parked_at, last_error) \
         SELECT 'password_reset', 'm' || n || '@example.org', 'Réinitialisation', 'x', 'x', \
           '<m' || n || '@example.org>', 1, now(), '554 5.7.1 Rejected by local policy' \
         FROM generate_series(1, 201) AS n ORDER BY n",
    )
    .await;
    // The admin reads French: signed-in pages speak the account's language.
    execute(
        &mut db,
        "UPDATE local_user SET language = 'fr' \
         WHERE person_id = (SELECT id FROM person WHERE username = 'admin' AND local)",
    )
    .await;

    let b = Browser::start("fr").await;
    b.sign_in(&alpha, "admin").await;
    b.goto(&alpha.url("/admin/mail")).await;
    b.wait_count("tr[id^='mail-']", 200).await;
    assert!(
        b.text("tr[id^='mail-']").await.contains("m1@example.org"),
        "the oldest first"
    );
    let next = b.find("#next-parked-mails").await;
    assert_eq!(next.text().await.unwrap(), "Page suivante");
    b.key_page("admin-mail-fr").await;
    b.click_and_wait_reload("#next-parked-mails").await;
    b.wait_count("tr[id^='mail-']", 1).await;
    let row = b.text("tr[id^='mail-']").await;
    assert!(row.contains("m201@example.org"), "{row}");
    b.wait_count("#next-parked-mails", 0).await;
    // Page 2 leads back to the first; its "Réessayer" comes back to page 2, now past the end
    // (its one mail back in line), which still leads back to the first.
    assert_eq!(b.text("#first-parked-mails").await, "Première page");
    let page_two = b.path().await;
    assert!(page_two.starts_with("/admin/mail?after="), "{page_two}");
    b.click_and_wait_reload("tr[id^='mail-'] form button").await;
    b.wait_path("page 2 again", |p| p == page_two).await;
    b.find("#no-parked-mail").await;
    assert_eq!(b.text("#first-parked-mails").await, "Première page");
    // A cursor that is not one (an edited link) is the first page, not an error.
    b.goto(&alpha.url("/admin/mail?after=deux")).await;
    b.wait_count("tr[id^='mail-']", 200).await;
    b.wait_count("#first-parked-mails", 0).await;

    // The mails leave the queue meanwhile; the admin, still on the page, asks for a domain
    // that is not one.
    execute(&mut db, "DELETE FROM mail_queue").await;
    b.fill("#retry-domain", "m1@example.org").await;
    b.click_and_wait_reload("#retry-all button").await;
    b.find("#no-parked-mail").await;
    let error = b.text("#retry-domain-error").await;
    assert!(!error.trim().is_empty(), "the refusal is said");
    assert_eq!(
        b.find("#retry-domain")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("m1@example.org"),
        "what was typed is shown again"
    );
    b.close().await;
}
