//! Triggered e-mails of the onboarding journey against a real database, with the clock
//! injected: "no contribution 3 days after sign-up" mails the quiet newcomer, not the one who
//! answered a question; the dry run lists the same people; a second run queues nothing more.

mod common;

use cenacle_config::Settings;
use cenacle_core::{
    accounts::{self, PreparedAccount, Session},
    triggered_mail::{self, RuleInput},
    Caller, Context, CoreError, ScopedFutureExt,
};
use cenacle_db::testing::fresh_database;
use cenacle_domain::{content::PostKind, onboarding::TemplateError, Role};
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
