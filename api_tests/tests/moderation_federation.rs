//! Reports and bans across alpha, beta and gamma (the group lives on alpha; beta and gamma
//! follow it): a report filed on gamma reaches alpha's moderators (with the reporter's
//! instance, and their name only when they share it) and the comment author's instance; its
//! resolution on alpha comes back to the reporter on gamma, who is notified of it. A ban on
//! alpha of gamma's member, with their content removed, removes their posts on alpha and on
//! beta's copy, and stops their next post. A ban on alpha of beta's member that runs out has
//! beta send the member's Follow again, as the lifting of a ban does.

use cenacle_api_tests::{
    authoring::Content,
    database::{self, lit},
    eventually, Hosts, Instance,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

fn enc(s: &str) -> String {
    s.replace('!', "%21")
        .replace('@', "%40")
        .replace(':', "%3A")
        .replace('/', "%2F")
}

/// The instances `names`, each started with the environment `env`.
fn started<const N: usize>(names: [&str; N], env: &[(&str, &str)]) -> [Instance; N] {
    let mut hosts = Hosts::default();
    for name in names {
        hosts.add(name);
    }
    let mut instances = names.map(|n| Instance::new(n, &hosts));
    for instance in &mut instances {
        for (key, value) in env {
            instance.set_env(key, value);
        }
        instance.start();
    }
    instances
}

fn trio() -> (Instance, Instance, Instance) {
    let [alpha, beta, gamma] = started(["alpha", "beta", "gamma"], &[]);
    (alpha, beta, gamma)
}

/// `instance`'s own id of the post `ap_id` of the group `group` (as it names it).
async fn post_here(instance: &Instance, token: &str, group: &str, ap_id: &str) -> Option<i64> {
    let (_, page) = instance
        .get(
            &format!("/api/v1/groups/{}/posts?limit=100", enc(group)),
            Some(token),
        )
        .await;
    page["items"]
        .as_array()?
        .iter()
        .find(|p| p["ap_id"] == ap_id)?["id"]
        .as_i64()
}

/// `instance`'s own id of the comment `ap_id` under its copy of `post`.
async fn comment_here(instance: &Instance, token: &str, post: i64, ap_id: &str) -> Option<i64> {
    let (_, detail) = instance
        .get(&format!("/api/v1/posts/{post}"), Some(token))
        .await;
    detail["comments"]
        .as_array()?
        .iter()
        .find(|c| c["ap_id"] == ap_id)?["id"]
        .as_i64()
}

async fn count(instance: &Instance, query: &str) -> i64 {
    let mut conn = database::connect(instance).await;
    database::number(&mut conn, query).await
}

async fn reports(instance: &Instance, token: &str, path: &str) -> Vec<Value> {
    let (status, page) = instance.get(path, Some(token)).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

/// The notifications `instance` shows the member of `token` of their reports closed `detail`
/// (resolved or dismissed), as they read them.
async fn report_outcomes(instance: &Instance, token: &str, detail: &str) -> Vec<Value> {
    reports(instance, token, "/api/v1/notifications")
        .await
        .into_iter()
        .filter(|n| n["kind"] == "moderation" && n["detail"] == detail)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_from_gamma_reaches_alphas_moderators_and_its_outcome_comes_back() {
    let (alpha, beta, gamma) = trio();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    let pierre = gamma.member("pierre").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;

    // alpha's admin asks; marie, on beta, answers.
    let question = alpha
        .create_post(&admin, "entraide", "question", "Quel éditeur ?")
        .await;
    let on_beta = eventually("beta's copy", DEADLINE, || {
        post_here(&beta, &marie, &handle, &question.ap_id)
    })
    .await;
    let answer = beta
        .create_answer(
            &marie,
            &Content {
                id: on_beta,
                ap_id: question.ap_id.clone(),
            },
            "Achetez mes cours !",
        )
        .await;
    let on_gamma = eventually("gamma's copy", DEADLINE, || {
        post_here(&gamma, &pierre, &handle, &question.ap_id)
    })
    .await;
    let comment = eventually("the answer on gamma", DEADLINE, || {
        comment_here(&gamma, &pierre, on_gamma, &answer.ap_id)
    })
    .await;

    // pierre reports it twice: in his own name once, anonymously once.
    for (text, share) in [("de la pub", false), ("encore de la pub", true)] {
        let (status, filed) = gamma
            .post(
                "/api/v1/reports",
                Some(&pierre),
                json!({"comment_id": comment, "reason": "spam", "text": text, "share_identity": share}),
            )
            .await;
        assert_eq!(status, 201, "{filed}");
        assert_eq!(filed["status"], "open");
    }

    // alpha's moderators see both, with gamma as the reporter's instance, and pierre's name
    // only on the one he shared.
    let queue = eventually("both reports on alpha", DEADLINE, || async {
        let queue = reports(&alpha, &admin, "/api/v1/groups/entraide/reports").await;
        (queue.len() == 2).then_some(queue)
    })
    .await;
    let anonymous = queue
        .iter()
        .find(|r| r["text"] == "de la pub")
        .expect("the anonymous report");
    let named = queue
        .iter()
        .find(|r| r["text"] == "encore de la pub")
        .expect("the named report");
    for report in [anonymous, named] {
        assert_eq!(report["reporter_instance"], gamma.host.as_str());
        assert_eq!(report["received_from"], gamma.host.as_str());
        assert_eq!(report["object_ap_id"], answer.ap_id.as_str());
        assert_eq!(report["person"], format!("marie@{}", beta.host));
        assert_eq!(report["reason"], "spam");
    }
    assert_eq!(named["reporter"], format!("pierre@{}", gamma.host));
    assert!(
        !anonymous.to_string().contains("pierre"),
        "an anonymous report names no one: {anonymous}"
    );

    // The author's instance (beta) receives them too, in its instance queue.
    let beta_admin = beta.admin().await;
    eventually("the reports on beta", DEADLINE, || async {
        let queue = reports(&beta, &beta_admin, "/api/v1/reports").await;
        (queue.len() == 2).then_some(())
    })
    .await;

    // alpha resolves the anonymous one: pierre sees it on gamma, with the note.
    let (status, resolved) = alpha
        .post(
            &format!("/api/v1/reports/{}/resolve", anonymous["id"]),
            Some(&admin),
            json!({"note": "Réponse retirée"}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    let mine = eventually("the outcome on gamma", DEADLINE, || async {
        let mine = reports(&gamma, &pierre, "/api/v1/reports/mine").await;
        mine.into_iter()
            .find(|r| r["text"] == "de la pub" && r["status"] == "resolved")
    })
    .await;
    let note = mine["resolution_note"].as_str().unwrap();
    assert!(
        note.contains(&alpha.host) && note.contains("Réponse retirée"),
        "{note}"
    );
    // pierre is told (the notice and the status are written together on gamma): by alpha's
    // moderator, about the answer he reported, in gamma's copy of the thread.
    let told = report_outcomes(&gamma, &pierre, "resolved").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["actor"], format!("admin@{}", alpha.host));
    assert_eq!(told[0]["post_id"], on_gamma);
    assert_eq!(told[0]["comment_id"], comment);
    // beta, the author's instance, holds it too (sent by gamma, forwarded by alpha's group):
    // the group's resolution closes its copy as well.
    eventually("beta's copy resolved", DEADLINE, || async {
        let resolved = reports(&beta, &beta_admin, "/api/v1/reports?status=resolved").await;
        resolved.into_iter().find(|r| r["text"] == "de la pub")
    })
    .await;
    // The other one is still open there.
    let open = reports(&gamma, &pierre, "/api/v1/reports/mine").await;
    assert!(open
        .iter()
        .any(|r| r["text"] == "encore de la pub" && r["status"] == "open"));
    // alpha dismisses it: pierre sees it dismissed, not resolved (the Resolve says which), and
    // so does beta's copy.
    let (status, dismissed) = alpha
        .post(
            &format!("/api/v1/reports/{}/dismiss", named["id"]),
            Some(&admin),
            json!({"note": "Rien à redire"}),
        )
        .await;
    assert_eq!(status, 200, "{dismissed}");
    let mine = eventually("the dismissal on gamma", DEADLINE, || async {
        let mine = reports(&gamma, &pierre, "/api/v1/reports/mine").await;
        mine.into_iter()
            .find(|r| r["text"] == "encore de la pub" && r["status"] != "open")
    })
    .await;
    assert_eq!(mine["status"], "dismissed", "{mine}");
    let note = mine["resolution_note"].as_str().unwrap();
    assert!(
        note.contains(&alpha.host) && note.contains("Rien à redire"),
        "{note}"
    );
    let told = report_outcomes(&gamma, &pierre, "dismissed").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["comment_id"], comment);
    assert_eq!(report_outcomes(&gamma, &pierre, "resolved").await.len(), 1);
    eventually("beta's copy dismissed", DEADLINE, || async {
        let closed = reports(&beta, &beta_admin, "/api/v1/reports?status=dismissed").await;
        closed.into_iter().find(|r| r["text"] == "encore de la pub")
    })
    .await;
    // alpha's log shows the resolution.
    let (_, log) = alpha
        .get("/api/v1/groups/entraide/moderation-log", None)
        .await;
    assert!(log.to_string().contains("resolve_report"), "{log}");

    // pierre reports marie herself: her server (beta) has it, and its admin acts on it. The
    // outcome comes back to gamma, where pierre is told, naming marie.
    let (status, filed) = gamma
        .post(
            "/api/v1/reports",
            Some(&pierre),
            json!({"person": format!("marie@{}", beta.host), "reason": "spam", "text": "elle spamme"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let on_beta = eventually("the report of marie on beta", DEADLINE, || async {
        let queue = reports(&beta, &beta_admin, "/api/v1/reports").await;
        queue.into_iter().find(|r| r["text"] == "elle spamme")
    })
    .await;
    let (status, resolved) = beta
        .post(
            &format!("/api/v1/reports/{}/resolve", on_beta["id"]),
            Some(&beta_admin),
            json!({"note": "Avertie"}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    let told = eventually("the outcome about marie on gamma", DEADLINE, || async {
        report_outcomes(&gamma, &pierre, "resolved")
            .await
            .into_iter()
            .find(|n| !n["person"].is_null())
    })
    .await;
    assert_eq!(told["person"], format!("marie@{}", beta.host), "{told}");
    assert_eq!(told["actor"], format!("admin@{}", beta.host), "{told}");
    assert!(told["post_id"].is_null(), "{told}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_on_alpha_removes_gammas_member_posts_everywhere_and_stops_the_next() {
    let (alpha, beta, gamma) = trio();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    let pierre = gamma.member("pierre").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;

    // pierre posts from gamma; alpha and beta have it.
    let (status, body) = gamma
        .post(
            &format!("/api/v1/groups/{}/posts", enc(&handle)),
            Some(&pierre),
            json!({"kind": "note", "title": "Promo", "body": "Achetez !"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ap_id = body["post"]["ap_id"].as_str().unwrap().to_owned();
    eventually("alpha's copy", DEADLINE, || {
        post_here(&alpha, &admin, "entraide", &ap_id)
    })
    .await;
    eventually("beta's copy", DEADLINE, || {
        post_here(&beta, &marie, &handle, &ap_id)
    })
    .await;

    // Bad input first: a ban ending in the past.
    let who = format!(
        "/api/v1/groups/entraide/bans/{}",
        enc(&format!("pierre@{}", gamma.host))
    );
    let (status, body) = alpha
        .call(
            Method::PUT,
            &who,
            Some(&admin),
            Some(json!({"expires_at": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("moderation_expiry_in_past"))
    );

    // alpha's admin bans pierre for a week, removing what he wrote.
    let until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (status, ban) = alpha
        .call(
            Method::PUT,
            &who,
            Some(&admin),
            Some(json!({"reason": "spam", "expires_at": until, "remove_data": true})),
        )
        .await;
    assert_eq!(status, 200, "{ban}");
    assert_eq!(ban["person"], format!("pierre@{}", gamma.host));
    let removed = format!(
        "SELECT count(*) FROM post WHERE ap_id = {} AND removed_at IS NOT NULL AND removal_reason = 'spam'",
        lit(&ap_id)
    );
    assert_eq!(count(&alpha, &removed).await, 1, "removed on alpha");
    eventually("removed on beta's copy", DEADLINE, || async {
        (count(&beta, &removed).await == 1).then_some(())
    })
    .await;

    // gamma learns of the ban too (it follows the group): its API refuses pierre's next
    // post with a clear code, and nothing reaches alpha.
    let banned = "SELECT count(*) FROM group_ban WHERE lifted_at IS NULL";
    eventually("the ban on gamma", DEADLINE, || async {
        (count(&gamma, banned).await == 1).then_some(())
    })
    .await;
    let (status, body) = gamma
        .post(
            &format!("/api/v1/groups/{}/posts", enc(&handle)),
            Some(&pierre),
            json!({"kind": "note", "title": "Encore", "body": "Achetez !"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("banned_from_group"))
    );

    // alpha itself stops pierre's next Create: gamma's database alone forgets the ban (as a
    // server that never heard of it, or one that ignores it, would), so that gamma's API lets
    // the post out. alpha acknowledges it (peers do not retry), ignores it for the ban, and
    // stores it nowhere: neither alpha nor beta (which only has what alpha relays) has it.
    let ignored_for_ban = "cenacle_inbox_ignored_total{reason=\"banned_from_group\"}";
    let ignored_before = alpha.metric(ignored_for_ban).await;
    let mut gamma_db = database::connect(&gamma).await;
    database::execute(
        &mut gamma_db,
        // A date of its own: the restore below puts back this ban only.
        "UPDATE group_ban SET lifted_at = '2000-01-01T00:00:00Z' WHERE lifted_at IS NULL",
    )
    .await;
    let (status, body) = gamma
        .post(
            &format!("/api/v1/groups/{}/posts", enc(&handle)),
            Some(&pierre),
            json!({"kind": "note", "title": "Malgré tout", "body": "Achetez !"}),
        )
        .await;
    assert_eq!(status, 201, "gamma lets the post out: {body}");
    let sneaked = body["post"]["ap_id"].as_str().unwrap().to_owned();
    eventually(
        "alpha ignoring the Create for the ban",
        DEADLINE,
        || async { (alpha.metric(ignored_for_ban).await >= ignored_before + 1.0).then_some(()) },
    )
    .await;
    assert_eq!(
        alpha.metric(ignored_for_ban).await,
        ignored_before + 1.0,
        "the one Create ignored"
    );
    let stored = format!("SELECT count(*) FROM post WHERE ap_id = {}", lit(&sneaked));
    assert_eq!(count(&alpha, &stored).await, 0, "not stored on alpha");
    assert_eq!(count(&beta, &stored).await, 0, "not stored on beta");
    // gamma's ban back as it was, for the lifting below.
    database::execute(
        &mut gamma_db,
        "UPDATE group_ban SET lifted_at = NULL WHERE lifted_at = '2000-01-01T00:00:00Z'",
    )
    .await;
    assert_eq!(count(&gamma, banned).await, 1);

    let (_, log) = alpha
        .get("/api/v1/groups/entraide/moderation-log", None)
        .await;
    let bans: Vec<&Value> = log["items"]
        .as_array()
        .expect("a page of entries")
        .iter()
        .filter(|e| e["action"] == "ban_from_group")
        .collect();
    assert_eq!(bans.len(), 1, "{log}");
    assert_eq!(bans[0]["moderator"], "admin", "{log}");
    assert_eq!(
        bans[0]["target_person"],
        format!("pierre@{}", gamma.host),
        "{log}"
    );
    assert_eq!(bans[0]["reason"], "spam", "{log}");
    assert!(bans[0]["created_at"].is_string(), "{log}");

    // Lifted: pierre posts again, and alpha has it.
    let (status, _) = alpha.call(Method::DELETE, &who, Some(&admin), None).await;
    assert_eq!(status, 204);
    eventually("the ban lifted on gamma", DEADLINE, || async {
        (count(&gamma, banned).await == 0).then_some(())
    })
    .await;
    let (status, body) = gamma
        .post(
            &format!("/api/v1/groups/{}/posts", enc(&handle)),
            Some(&pierre),
            json!({"kind": "note", "title": "Pardon", "body": "Je me calme."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let again = body["post"]["ap_id"].as_str().unwrap().to_owned();
    eventually("the new post on alpha", DEADLINE, || {
        post_here(&alpha, &admin, "entraide", &again)
    })
    .await;
    // Relayed to beta, after anything alpha would have relayed of the ignored one: still not
    // there.
    eventually("the new post on beta", DEADLINE, || {
        post_here(&beta, &marie, &handle, &again)
    })
    .await;
    assert_eq!(count(&beta, &stored).await, 0, "never relayed to beta");

    // The ban took pierre's follow on alpha (gamma's only one): the lifting sends it again
    // from gamma, and alpha's next post reaches gamma. Before, pierre showed as following on
    // gamma and received nothing more.
    let follows_from_gamma = format!(
        "SELECT count(*) FROM follow WHERE state = 'accepted' \
         AND follower_ap_id LIKE {} AND target_ap_id LIKE {}",
        lit(&format!("%{}%pierre", gamma.host)),
        lit(&format!("%{}%entraide", alpha.host))
    );
    eventually("pierre's follow again on alpha", DEADLINE, || async {
        (count(&alpha, &follows_from_gamma).await == 1).then_some(())
    })
    .await;
    let news = alpha
        .create_post(&admin, "entraide", "note", "Nouvelles du groupe")
        .await;
    eventually("alpha's next post on gamma", DEADLINE, || {
        post_here(&gamma, &pierre, &handle, &news.ap_id)
    })
    .await;
}

/// A ban with an end that simply runs out comes with no `Undo{Block}` (Lemmy never sends one),
/// while alpha dropped the banned member's follow with the ban: beta's pass over the bans run
/// out sends the member's Follow again (issue 13). Before, marie showed as following on beta
/// and received nothing more from the group, forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_running_out_on_alpha_has_betas_member_follow_again() {
    // beta looks for bans run out every second, so that this one is found soon after its end.
    let [alpha, beta] = started(
        ["alpha", "beta"],
        &[("CENACLE_FEDERATION__BANS_RUN_OUT_INTERVAL_SECONDS", "1")],
    );
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    let follows_from_beta = format!(
        "SELECT count(*) FROM follow WHERE state = 'accepted' \
         AND follower_ap_id LIKE {} AND target_ap_id LIKE {}",
        lit(&format!("%{}%marie", beta.host)),
        lit(&format!("%{}%entraide", alpha.host))
    );
    assert_eq!(count(&alpha, &follows_from_beta).await, 1);

    // The first Follow beta sends once the ban has run out fails: beta's database refuses
    // any change of a follow (nothing else changes one until then; the ban itself leaves
    // marie's follow of alpha's group as it is on beta).
    let mut beta_db = database::connect(&beta).await;
    database::execute(
        &mut beta_db,
        "CREATE FUNCTION test_refuse_follow_change() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
    )
    .await;
    database::execute(
        &mut beta_db,
        "CREATE TRIGGER test_refuse_follow_change BEFORE UPDATE ON follow \
         FOR EACH ROW EXECUTE FUNCTION test_refuse_follow_change()",
    )
    .await;

    // alpha's admin bans marie for a few seconds: long enough for the ban to reach beta
    // first, short enough to wait for. alpha drops her follow with it.
    let until = chrono::Utc::now() + chrono::Duration::seconds(6);
    let who = format!(
        "/api/v1/groups/entraide/bans/{}",
        enc(&format!("marie@{}", beta.host))
    );
    let (status, ban) = alpha
        .call(
            Method::PUT,
            &who,
            Some(&admin),
            Some(json!({"reason": "spam", "expires_at": until.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, 200, "{ban}");
    assert_eq!(
        count(&alpha, &follows_from_beta).await,
        0,
        "dropped on alpha"
    );
    eventually("the ban on beta", DEADLINE, || async {
        (count(&beta, "SELECT count(*) FROM group_ban").await == 1).then_some(())
    })
    .await;

    // No Undo comes: once the ban has run out, beta's pass sends marie's Follow again on its
    // own. Its first try fails: the savepoint is rolled back (her follow on beta as it was,
    // nothing sent) and the ban deferred, a minute after that try, which came after the end.
    let deferred = format!(
        "SELECT count(*) FROM group_ban WHERE expiry_handled_at IS NULL \
         AND expiry_attempts = 1 AND expiry_retry_at - interval '1 minute' >= {}",
        lit(&until.to_rfc3339())
    );
    eventually("the failed Follow deferred on beta", DEADLINE, || async {
        (count(&beta, &deferred).await == 1).then_some(())
    })
    .await;
    let marie_follow_on_beta = format!(
        "SELECT count(*) FROM follow WHERE state = 'accepted' AND follower_ap_id LIKE {}",
        lit(&format!("%{}%marie", beta.host))
    );
    assert_eq!(
        count(&beta, &marie_follow_on_beta).await,
        1,
        "the failed try left marie's follow as it was"
    );
    // Passes go on every second without trying it again before its time: a ban of paul that
    // ran out after marie's is handled by a later pass, and marie's is still at its first
    // failure.
    beta.member("paul").await;
    database::execute(
        &mut beta_db,
        &format!(
            "INSERT INTO group_ban (group_id, person_id, reason, expires_at) \
             SELECT g.id, p.id, 'spam', now() - interval '2 seconds' \
             FROM community_group g, person p \
             WHERE g.ap_id LIKE {} AND p.ap_id LIKE {}",
            lit(&format!("%{}%entraide", alpha.host)),
            lit(&format!("%{}%paul", beta.host))
        ),
    )
    .await;
    eventually("paul's ban handled by a later pass", DEADLINE, || async {
        let handled = "SELECT count(*) FROM group_ban g JOIN person p ON p.id = g.person_id \
                       WHERE p.username = 'paul' AND g.expiry_handled_at IS NOT NULL";
        (count(&beta, handled).await == 1).then_some(())
    })
    .await;
    assert_eq!(
        count(&beta, &deferred).await,
        1,
        "marie's ban not tried again before its time"
    );

    // beta's database takes the change again, and her retry time comes (moved, rather than
    // waited for a minute): alpha takes her back among its followers.
    database::execute(
        &mut beta_db,
        "DROP TRIGGER test_refuse_follow_change ON follow",
    )
    .await;
    database::execute(
        &mut beta_db,
        "UPDATE group_ban SET expiry_retry_at = now() - interval '2 seconds' \
         WHERE expiry_retry_at IS NOT NULL",
    )
    .await;
    eventually("marie's follow again on alpha", DEADLINE, || async {
        (count(&alpha, &follows_from_beta).await == 1).then_some(())
    })
    .await;
    eventually(
        "marie's follow accepted again on beta",
        DEADLINE,
        || async { (count(&beta, &follows_from_beta).await == 1).then_some(()) },
    )
    .await;
    let handled = "SELECT count(*) FROM group_ban WHERE expiry_handled_at IS NOT NULL";
    assert_eq!(count(&beta, handled).await, 2, "both bans handled, once");

    // alpha's next post reaches beta.
    let news = alpha
        .create_post(&admin, "entraide", "note", "Nouvelles du groupe")
        .await;
    eventually("alpha's next post on beta", DEADLINE, || {
        post_here(&beta, &marie, &handle, &news.ap_id)
    })
    .await;
}

/// A report reaching a group of ours is forwarded, as Lemmy does, to the instances of its
/// moderators elsewhere (the group's `Announce{Flag}`): a moderator on beta of alpha's group
/// sees gamma's report about alpha's own post, which gamma sent to alpha only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_to_alphas_group_is_forwarded_to_its_moderators_instance() {
    let (alpha, beta, gamma) = trio();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    let pierre = gamma.member("pierre").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;
    // marie, on beta, moderates alpha's group.
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!(
                "/api/v1/groups/entraide/members/{}",
                enc(&format!("marie@{}", beta.host))
            ),
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    let question = alpha
        .create_post(&admin, "entraide", "question", "Vendez-vous des cours ?")
        .await;
    let on_gamma = eventually("gamma's copy", DEADLINE, || {
        post_here(&gamma, &pierre, &handle, &question.ap_id)
    })
    .await;
    let (status, filed) = gamma
        .post(
            "/api/v1/reports",
            Some(&pierre),
            json!({"post_id": on_gamma, "reason": "spam", "text": "hors sujet"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");

    // alpha's queue has it; beta's too, through the group's Announce, for marie's instance.
    eventually("the report on alpha", DEADLINE, || async {
        let queue = reports(&alpha, &admin, "/api/v1/groups/entraide/reports").await;
        (queue.len() == 1).then_some(())
    })
    .await;
    let beta_admin = beta.admin().await;
    let forwarded = eventually("the report forwarded to beta", DEADLINE, || async {
        reports(&beta, &beta_admin, "/api/v1/reports")
            .await
            .into_iter()
            .find(|r| r["text"] == "hors sujet")
    })
    .await;
    assert_eq!(forwarded["object_ap_id"], question.ap_id.as_str());
    assert_eq!(forwarded["reporter_instance"], gamma.host.as_str());
    assert!(
        !forwarded.to_string().contains("pierre"),
        "still anonymous: {forwarded}"
    );

    // A report by alpha's own member about its group's content reaches marie's instance too
    // (the group's Announce of alpha's Flag), still without the member's name.
    let jean = alpha.member("jean").await;
    let (status, filed) = alpha
        .post(
            "/api/v1/reports",
            Some(&jean),
            json!({"post_id": question.id, "reason": "spam", "text": "doublon"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let from_alpha = eventually("alpha's member's report on beta", DEADLINE, || async {
        reports(&beta, &beta_admin, "/api/v1/reports")
            .await
            .into_iter()
            .find(|r| r["text"] == "doublon")
    })
    .await;
    assert_eq!(from_alpha["object_ap_id"], question.ap_id.as_str());
    assert!(
        !from_alpha.to_string().contains("jean"),
        "sent in alpha's name: {from_alpha}"
    );

    // alpha resolves both: the outcome reaches every server that holds them — pierre's
    // (gamma) and the moderators' (beta), whose queue empties.
    let queue = reports(&alpha, &admin, "/api/v1/groups/entraide/reports").await;
    assert_eq!(queue.len(), 2, "{queue:?}");
    for report in &queue {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/reports/{}/resolve", report["id"]),
                Some(&admin),
                json!({"note": "Hors sujet retiré"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    eventually("beta's copies resolved", DEADLINE, || async {
        let resolved = reports(&beta, &beta_admin, "/api/v1/reports?status=resolved").await;
        (resolved.len() == 2).then_some(())
    })
    .await;
    assert!(reports(&beta, &beta_admin, "/api/v1/reports")
        .await
        .is_empty());
    eventually("pierre sees the outcome on gamma", DEADLINE, || async {
        let mine = reports(&gamma, &pierre, "/api/v1/reports/mine").await;
        mine.into_iter().find(|r| r["status"] == "resolved")
    })
    .await;
}

/// A report forwarded to beta about alpha's group is in the queue of marie, beta's member
/// listed as the group's moderator ("groups I moderate elsewhere"), not of another member of
/// beta; beta's admins keep it too. marie resolves it on beta: alpha honours it (she is
/// listed), closes its own copy and relays the outcome to the reporter on gamma.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_moderator_sees_and_resolves_a_forwarded_report_on_her_own_instance() {
    let (alpha, beta, gamma) = trio();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    let paul = beta.member("paul").await;
    let pierre = gamma.member("pierre").await;
    for token in [&marie, &paul] {
        beta.follow_group(token, &format!("!{handle}"), DEADLINE)
            .await;
    }
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!(
                "/api/v1/groups/entraide/members/{}",
                enc(&format!("marie@{}", beta.host))
            ),
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    let question = alpha
        .create_post(&admin, "entraide", "question", "Vendez-vous des cours ?")
        .await;
    let on_gamma = eventually("gamma's copy", DEADLINE, || {
        post_here(&gamma, &pierre, &handle, &question.ap_id)
    })
    .await;
    let (status, filed) = gamma
        .post(
            "/api/v1/reports",
            Some(&pierre),
            json!({"post_id": on_gamma, "reason": "spam", "text": "publicité"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");

    let elsewhere = "/api/v1/reports/moderated-elsewhere";
    let mine = eventually("the report in marie's queue", DEADLINE, || async {
        reports(&beta, &marie, elsewhere)
            .await
            .into_iter()
            .find(|r| r["text"] == "publicité")
    })
    .await;
    assert_eq!(mine["object_ap_id"], question.ap_id.as_str());
    // beta's admins keep seeing it; another member of beta does not, and may not close it.
    let beta_admin = beta.admin().await;
    assert!(reports(&beta, &beta_admin, "/api/v1/reports")
        .await
        .iter()
        .any(|r| r["id"] == mine["id"]));
    assert!(reports(&beta, &paul, elsewhere).await.is_empty());
    let (status, body) = beta
        .post(
            &format!("/api/v1/reports/{}/resolve", mine["id"]),
            Some(&paul),
            json!({"note": "non"}),
        )
        .await;
    assert_eq!(status, 404, "{body}");

    let (status, body) = beta
        .post(
            &format!("/api/v1/reports/{}/resolve", mine["id"]),
            Some(&marie),
            json!({"note": "Publicité retirée"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(reports(&beta, &marie, elsewhere).await.is_empty());
    let on_alpha = eventually("alpha's copy resolved", DEADLINE, || async {
        reports(
            &alpha,
            &admin,
            "/api/v1/groups/entraide/reports?status=resolved",
        )
        .await
        .into_iter()
        .find(|r| r["text"] == "publicité")
    })
    .await;
    assert!(
        on_alpha.to_string().contains("Publicité retirée"),
        "{on_alpha}"
    );
    assert!(reports(&alpha, &admin, "/api/v1/groups/entraide/reports")
        .await
        .is_empty());
    eventually("pierre sees the outcome on gamma", DEADLINE, || async {
        let mine = reports(&gamma, &pierre, "/api/v1/reports/mine").await;
        mine.into_iter().find(|r| r["status"] == "resolved")
    })
    .await;

    // Paul, on beta, reports the same question keeping his name: marie sees the report in
    // her queue as from the instance, never from paul.
    let on_beta = post_here(&beta, &paul, &handle, &question.ap_id)
        .await
        .expect("beta's copy");
    let (status, filed) = beta
        .post(
            "/api/v1/reports",
            Some(&paul),
            json!({"post_id": on_beta, "reason": "spam", "text": "anonyme"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let unnamed = reports(&beta, &marie, elsewhere)
        .await
        .into_iter()
        .find(|r| r["text"] == "anonyme")
        .expect("paul's report in marie's queue");
    assert!(
        !unnamed.to_string().contains("paul"),
        "the reporter kept his name: {unnamed}"
    );
}
