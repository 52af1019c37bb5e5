//! Triggered e-mails of the onboarding journey against a real database, with the clock
//! injected: "no contribution 3 days after sign-up" mails the quiet newcomer, not the one who
//! answered a question; the dry run lists the same people; a second run queues nothing more.

mod common;

use cenacle_config::Settings;
use cenacle_core::{
    accounts::{self, PreparedAccount, Session},
    admin::{self, DroppedMail, RetryOutcome},
    mail::{self, FailureRecorded},
    triggered_mail::{self, RuleInput},
    Caller, Context, CoreError, ScopedFutureExt,
};
use cenacle_db::testing::fresh_database;
use cenacle_domain::{
    content::PostKind,
    mail::{MailContent, MailKind},
    onboarding::TemplateError,
    Role,
};
use chrono::{Duration, Utc};
use common::World;

async fn world_with_mail() -> World {
    let db = fresh_database().await;
    let mut settings = Settings::defaults();
    settings.email.enabled = true;
    let ctx = Context::new(db.pool.clone(), settings);
    World { ctx, db }
}

async fn member_with_address(w: &World, name: &str, role: Role) -> Session {
    let address = format!("{name}@example.org");
    let prepared = PreparedAccount::prepare(
        &w.ctx.settings,
        name,
        "correct horse battery",
        Some(&address),
        role,
    )
    .await
    .unwrap();
    let account = w
        .act(|conn, _| async move { accounts::create_account(conn, &prepared).await }.scope_boxed())
        .await
        .unwrap();
    Session {
        account,
        token_id: 0,
    }
}

fn no_contribution_rule() -> RuleInput {
    RuleInput {
        trigger: "no_contribution_after_signup".into(),
        delay_days: 3,
        stop_condition: "has_contributed".into(),
        subject_fr: "Un premier pas sur {{instance}} ?".into(),
        body_fr: "Bonjour {{name}}, déjà {{days}} jours.".into(),
        subject_en: "A first step on {{instance}}?".into(),
        body_en: "Hello {{name}}, {{days}} days already: {{link}}".into(),
        enabled: true,
    }
}

async fn onboarding_mails_to(w: &World, username: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = w.ctx.conn().await.unwrap();
    diesel::sql_query(
        "SELECT count(*) AS n FROM mail_queue WHERE kind = 'onboarding' AND to_address = $1",
    )
    .bind::<diesel::sql_types::Text, _>(format!("{username}@example.org"))
    .get_result::<N>(&mut conn)
    .await
    .unwrap()
    .n
}

#[tokio::test]
async fn no_contribution_after_three_days_mails_the_quiet_newcomer_once_and_the_dry_run_agrees() {
    let w = world_with_mail().await;
    let manager = member_with_address(&w, "camille", Role::CommunityManager).await;
    let asker = member_with_address(&w, "asker", Role::Member).await;
    let quiet = member_with_address(&w, "quiet", Role::Member).await;
    let helpful = member_with_address(&w, "helpful", Role::Member).await;
    let group = w.group(&manager, "entraide").await;
    let question = w
        .post(
            &Caller::from(&asker),
            &group,
            PostKind::Question,
            "Comment faire ?",
        )
        .await;
    w.answer(&Caller::from(&helpful), &question, "Comme ceci")
        .await;
    // Two quiet members no mail would reach: an address never confirmed, and one who turned
    // onboarding mails off. Neither is listed nor counted as reached.
    let unconfirmed = member_with_address(&w, "unconfirmed", Role::Member).await;
    let refuser = member_with_address(&w, "refuser", Role::Member).await;
    {
        use diesel_async::RunQueryDsl;
        let mut conn = w.ctx.conn().await.unwrap();
        diesel::sql_query("UPDATE local_user SET email_verified_at = NULL WHERE person_id = $1")
            .bind::<diesel::sql_types::BigInt, _>(unconfirmed.account.person_id)
            .execute(&mut conn)
            .await
            .unwrap();
        diesel::sql_query("INSERT INTO email_opt_out (person_id, kind) VALUES ($1, 'onboarding')")
            .bind::<diesel::sql_types::BigInt, _>(refuser.account.person_id)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let rule = w
        .act(|conn, _| {
            let manager = &manager;
            async move { triggered_mail::create_rule(conn, manager, &no_contribution_rule()).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    // Everyone signed up just now; three days and a minute later by the injected clock.
    let later = Utc::now() + Duration::days(3) + Duration::minutes(1);

    let too_early = w
        .act(|conn, ctx| {
            let manager = &manager;
            async move { triggered_mail::dry_run(conn, ctx, manager, rule.id, Utc::now()).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    assert!(too_early.is_empty(), "nobody before the delay");

    let preview = w
        .act(|conn, ctx| {
            let manager = &manager;
            async move { triggered_mail::dry_run(conn, ctx, manager, rule.id, later).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    let previewed: Vec<&str> = preview.iter().map(|m| m.username.as_str()).collect();
    // The manager never contributed either (the group's creation is not a contribution).
    assert_eq!(previewed, ["camille", "quiet"]);
    assert_eq!(preview[1].person_id, quiet.account.person_id);
    assert!(preview[1].content.text.contains("3 days already"));
    assert_eq!(
        onboarding_mails_to(&w, "quiet").await,
        0,
        "a dry run queues nothing"
    );

    let reached = w
        .act(|conn, ctx| {
            async move { triggered_mail::run_rules(conn, ctx, later).await }.scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(reached, 2);
    assert_eq!(onboarding_mails_to(&w, "quiet").await, 1);
    assert_eq!(
        onboarding_mails_to(&w, "helpful").await,
        0,
        "answered a question"
    );
    assert_eq!(
        onboarding_mails_to(&w, "asker").await,
        0,
        "asked a question"
    );

    let again = w
        .act(|conn, ctx| {
            async move { triggered_mail::run_rules(conn, ctx, later).await }.scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(onboarding_mails_to(&w, "quiet").await, 1, "queued once");
    let after = w
        .act(|conn, ctx| {
            let manager = &manager;
            async move { triggered_mail::dry_run(conn, ctx, manager, rule.id, later).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    assert!(after.is_empty(), "the dry run knows who was mailed");
}

#[tokio::test]
async fn a_template_with_an_unknown_variable_is_refused_naming_it() {
    let w = world_with_mail().await;
    let manager = member_with_address(&w, "camille", Role::CommunityManager).await;
    let member = member_with_address(&w, "plain", Role::Member).await;
    let mut input = no_contribution_rule();
    input.body_en = "Hello {{name}}, your {{karma}} awaits".into();
    let before = w.count("onboarding_rule").await;
    let err = w
        .act(|conn, _| {
            let (manager, input) = (&manager, &input);
            async move { triggered_mail::create_rule(conn, manager, input).await }.scope_boxed()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CoreError::Template { field: "body_en", error: TemplateError::UnknownVariable(v) } if v == "karma"
        ),
        "{err:?}"
    );
    assert_eq!(w.count("onboarding_rule").await, before, "nothing saved");
    let err = w
        .act(|conn, _| {
            let member = &member;
            async move { triggered_mail::create_rule(conn, member, &no_contribution_rule()).await }
                .scope_boxed()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
}

/// The queued mails (id, to whom, subject), oldest first, and whether each is parked.
async fn queued(w: &World) -> Vec<(i64, String, String, bool)> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Queued {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        to_address: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        subject: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        parked: bool,
    }
    let mut conn = w.ctx.conn().await.unwrap();
    diesel::sql_query(
        "SELECT id, to_address, subject, parked_at IS NOT NULL AS parked FROM mail_queue \
         ORDER BY id",
    )
    .load::<Queued>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|q| (q.id, q.to_address, q.subject, q.parked))
    .collect()
}

/// A triggered mail parked (the mail server refused it for good) is asked again, when an admin
/// retries it, what its rule would say now: the rule still there, still enabled, its stop
/// condition not met by the member since. Four rules mail two quiet newcomers; all eight
/// mails are parked. Then one newcomer answers a question (three rules stop at a
/// contribution; the fourth, whose stop condition is `none`, does not), a rule is disabled,
/// another deleted: "retry all" deletes their five mails, naming them, and puts back the
/// mails still due (the quiet newcomer's by the rule left as it was, both newcomers' by the
/// rule that never stops: a contribution spares nobody from it), and a welcome of the same
/// kind parked beside them, which no rule sent (nothing to ask).
#[tokio::test]
async fn retrying_drops_a_parked_triggered_mail_whose_rule_was_disabled_deleted_or_stopped() {
    let w = world_with_mail().await;
    // Without addresses: no rule mails them.
    let manager = w.member("camille", Role::CommunityManager).await;
    let admin = w.member("root", Role::Admin).await;
    member_with_address(&w, "quiet", Role::Member).await;
    let tardy = member_with_address(&w, "tardy", Role::Member).await;
    let group = w.group(&manager, "entraide").await;
    let question = w
        .post(
            &Caller::from(&manager),
            &group,
            PostKind::Question,
            "Comment faire ?",
        )
        .await;
    let mut rules = Vec::new();
    for name in ["kept", "disabled", "deleted", "unstoppable"] {
        let mut input = no_contribution_rule();
        input.subject_fr = format!("Rule {name}");
        input.subject_en = format!("Rule {name}");
        if name == "unstoppable" {
            input.stop_condition = "none".into();
        }
        let rule = w
            .act(|conn, _| {
                let (manager, input) = (&manager, &input);
                async move { triggered_mail::create_rule(conn, manager, input).await }.scope_boxed()
            })
            .await
            .unwrap();
        rules.push((rule, input));
    }
    let later = Utc::now() + Duration::days(3) + Duration::minutes(1);
    let reached = w
        .act(|conn, ctx| {
            async move { triggered_mail::run_rules(conn, ctx, later).await }.scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(reached, 8, "each rule mails both newcomers");
    // A welcome to tardy: an onboarding mail too, but no rule's.
    let welcome = w
        .act(|conn, ctx| {
            let person = tardy.account.person_id;
            async move {
                mail::enqueue_mail(conn, ctx, person, MailKind::Onboarding, |_| {
                    MailContent::compose("Welcome".into(), "Hello,", &[], None, "Cénacle")
                })
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert!(welcome);

    // The worker tries them all; the mail server refuses each for good: parked.
    let claimed = w
        .act(|conn, _| async move { mail::claim_mails(conn, 20, 60.0, &[]).await }.scope_boxed())
        .await
        .unwrap();
    assert_eq!(claimed.len(), 9);
    for m in &claimed {
        let recorded = w
            .act(|conn, ctx| {
                async move { mail::mail_failed(conn, ctx, m, "554 refused", true).await }
                    .scope_boxed()
            })
            .await
            .unwrap();
        assert!(
            matches!(recorded, FailureRecorded::Parked(_)),
            "{recorded:?}"
        );
    }
    let parked = queued(&w).await;
    assert!(parked.iter().all(|(.., parked)| *parked), "{parked:?}");
    let id_of = |to: &str, subject: &str| {
        parked
            .iter()
            .find(|(_, a, s, _)| a == &format!("{to}@example.org") && s == subject)
            .unwrap_or_else(|| panic!("{subject} to {to}: {parked:?}"))
            .0
    };

    // Meanwhile tardy answers a question (the stop condition of all rules but the
    // unstoppable one), the manager disables one rule and deletes another.
    w.answer(&Caller::from(&tardy), &question, "Comme ceci")
        .await;
    let (disabled, input) = &rules[1];
    let mut off = input.clone();
    off.enabled = false;
    w.act(|conn, _| {
        let (manager, off, id) = (&manager, &off, disabled.id);
        async move { triggered_mail::update_rule(conn, manager, id, off).await }.scope_boxed()
    })
    .await
    .unwrap();
    w.act(|conn, _| {
        let (manager, id) = (&manager, rules[2].0.id);
        async move { triggered_mail::delete_rule(conn, manager, id).await }.scope_boxed()
    })
    .await
    .unwrap();

    let outcome = w
        .act(|conn, _| {
            let admin = &admin;
            async move { admin::retry_parked_mails(conn, admin, None).await }.scope_boxed()
        })
        .await
        .unwrap();
    let mut dropped: Vec<DroppedMail> = [
        ("tardy", "Rule kept"),
        ("quiet", "Rule disabled"),
        ("tardy", "Rule disabled"),
        ("quiet", "Rule deleted"),
        ("tardy", "Rule deleted"),
    ]
    .into_iter()
    .map(|(to, subject)| DroppedMail {
        id: id_of(to, subject),
        kind: "onboarding".into(),
    })
    .collect();
    dropped.sort_by_key(|m| m.id);
    assert_eq!(
        outcome,
        RetryOutcome {
            retried: 4,
            dropped: 5,
            dropped_mails: dropped,
        }
    );
    let left: Vec<(String, String, bool)> = queued(&w)
        .await
        .into_iter()
        .map(|(_, to, subject, parked)| (to, subject, parked))
        .collect();
    assert_eq!(
        left,
        [
            ("quiet@example.org".into(), "Rule kept".into(), false),
            ("quiet@example.org".into(), "Rule unstoppable".into(), false),
            ("tardy@example.org".into(), "Rule unstoppable".into(), false),
            ("tardy@example.org".into(), "Welcome".into(), false),
        ],
        "back in line: the mails still due, and the welcome"
    );
}
