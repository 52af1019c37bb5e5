//! Community insights through the real router and database (issue 12): a generated community
//! of 200 members, 5 tags and 3 months of activity, with three planted profiles — an expert
//! with few but accepted answers, a very active member whose answers are rarely accepted or
//! liked, a helpful member whose mood turns negative. The history is written with set-based
//! SQL through the same triggers as the application's writes (the rollups have no other
//! writer); the helpful member's recent, negative answers go through the API, which scores
//! them.

mod common;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use cenacle_domain::{sentiment::sentiment, Language, Role};
use chrono::{Duration, Utc};
use common::{engagement::setup, Reply, TestApp};
use diesel::sql_types::{BigInt, Float4};
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

const TAGS: [&str; 5] = ["printers", "network", "billing", "mobile", "account"];
const NEUTRAL: &str = "See the manual, section 3.";
const POSITIVE: &str = "Great question! This works perfectly now, glad it helped.";
const NEGATIVE: [&str; 4] = [
    "This is terrible: the update broke everything again. Not good at all.",
    "Still broken. Awful support, nobody fixes anything.",
    "I am very disappointed, the new version is useless and slow.",
    "Horrible release, it crashes all the time.",
];

/// Runs `statement` with the moods of the seeded texts bound as $1 (neutral), $2 (positive).
async fn sql_scored(t: &TestApp, statement: &str) {
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(statement)
        .bind::<Float4, _>(sentiment(NEUTRAL, Language::En) as f32)
        .bind::<Float4, _>(sentiment(POSITIVE, Language::En) as f32)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}: {statement}"));
}

async fn id_of(t: &TestApp, query: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(query)
        .get_result::<Id>(&mut conn)
        .await
        .unwrap()
        .id
}

struct Community {
    t: TestApp,
    manager: String,
    hana: String,
    from: String,
    to: String,
}

/// The generated community. Days are counted back from today; the period under study is the
/// last 91 days (and today).
async fn community() -> Community {
    let (t, _admin) = setup().await;
    let manager = t.with_role("manager", Role::CommunityManager).await;
    // The three planted members are real accounts; 197 others come from a seeded instance.
    let _eve = t.member("eve").await;
    let _bob = t.member("bob").await;
    let hana = t.member("hana").await;
    t.sql(
        "INSERT INTO person (username, local, ap_id, instance_host) \
         SELECT 'm' || i, false, 'https://seed.example/u/' || i, 'seed.example' \
         FROM generate_series(1, 197) AS i",
    )
    .await;
    let group = id_of(&t, "SELECT id FROM community_group WHERE name = 'open'").await;
    let people =
        "(SELECT array_agg(id ORDER BY id) FROM person WHERE instance_host = 'seed.example')";
    let tags = format!("ARRAY['{}']", TAGS.join("','"));
    // 600 questions by seeded members, one tag each, 2 to 89 days old.
    t.sql(&format!(
            "INSERT INTO post (group_id, author_id, kind, title, body, language, tags, ap_id, local, created_at) \
             SELECT {group}, ({people})[1 + (g * 37) % 197], 'question', 'Q' || g, 'How do I fix this?', 'en', \
                    ARRAY[({tags})[1 + g % 5]], 'https://seed.example/q/' || g, false, \
                    now() - ((g * 13) % 88 + 2) * interval '1 day' \
             FROM generate_series(1, 600) AS g"
        ),
    )
    .await;
    let seeded_questions = "SELECT id, author_id, tags, created_at FROM post WHERE ap_id LIKE 'https://seed.example/q/%'";
    // Two answers to each by other seeded members, three in ten accepted, each liked once.
    sql_scored(
        &t,
        &format!(
            "INSERT INTO comment (post_id, author_id, body, depth, ap_id, local, created_at, sentiment) \
             SELECT q.id, a.author, '{NEUTRAL}', 0, 'https://seed.example/c/' || q.id || '/' || k, false, \
                    q.created_at + k * interval '1 hour', $1 \
             FROM ({seeded_questions}) q CROSS JOIN generate_series(1, 2) AS k \
             CROSS JOIN LATERAL (SELECT ({people})[1 + (q.id * 53 + k * 17) % 197] AS author) a \
             WHERE a.author <> q.author_id"
        ),
    )
    .await;
    t.sql(
        "UPDATE post p SET accepted_comment_id = c.id, accepted_by = p.author_id \
         FROM (SELECT post_id, min(id) AS id FROM comment GROUP BY post_id) c \
         WHERE c.post_id = p.id AND p.ap_id LIKE 'https://seed.example/q/%' AND p.id % 10 < 3",
    )
    .await;
    t.sql(&format!(
        "INSERT INTO vote (person_id, comment_id, value) \
             SELECT l.liker, c.id, 1 FROM comment c \
             CROSS JOIN LATERAL (SELECT ({people})[1 + (c.id * 31) % 197] AS liker) l \
             WHERE l.liker <> c.author_id"
    ))
    .await;

    // The expert: 10 answers on printer questions, 8 accepted, each liked by 3 people; one more
    // answer 119 days ago, outside the period.
    let eve = "(SELECT id FROM person WHERE username = 'eve' AND local)";
    sql_scored(
        &t,
        &format!(
            "INSERT INTO comment (post_id, author_id, body, depth, ap_id, local, created_at, sentiment) \
             SELECT q.id, {eve}, 'Replace the fuser unit.', 0, 'https://seed.example/eve/' || q.id, true, \
                    q.created_at + interval '30 minutes', $1 \
             FROM ({seeded_questions}) q WHERE q.tags = ARRAY['printers'] ORDER BY q.id LIMIT 10"
        ),
    )
    .await;
    t.sql(&format!(
        "UPDATE post p SET accepted_comment_id = c.id, accepted_by = p.author_id FROM comment c \
             WHERE c.post_id = p.id AND c.author_id = {eve} \
               AND c.id IN (SELECT id FROM comment WHERE author_id = {eve} ORDER BY id LIMIT 8)"
    ))
    .await;
    t.sql(&format!(
        "INSERT INTO vote (person_id, comment_id, value) \
             SELECT ({people})[1 + (c.id * 7 + k * 11) % 197], c.id, 1 \
             FROM comment c CROSS JOIN generate_series(1, 3) AS k WHERE c.author_id = {eve} \
             ON CONFLICT DO NOTHING"
    ))
    .await;
    t.sql(&format!(
            "INSERT INTO post (group_id, author_id, kind, title, body, language, tags, ap_id, local, created_at) \
             VALUES ({group}, ({people})[1], 'question', 'Old', 'Old question', 'en', ARRAY['printers'], \
                     'https://seed.example/old', false, now() - interval '120 days')"
        ),
    )
    .await;
    t.sql(&format!(
            "INSERT INTO comment (post_id, author_id, body, depth, ap_id, local, created_at) \
             SELECT id, {eve}, 'Old answer', 0, 'https://seed.example/eve/old', true, now() - interval '119 days' \
             FROM post WHERE ap_id = 'https://seed.example/old'"
        ),
    )
    .await;

    // The busy member: an answer to every printer question, 2 accepted, 5 likes in all.
    let bob = "(SELECT id FROM person WHERE username = 'bob' AND local)";
    sql_scored(
        &t,
        &format!(
            "INSERT INTO comment (post_id, author_id, body, depth, ap_id, local, created_at, sentiment) \
             SELECT q.id, {bob}, 'Try restarting it.', 0, 'https://seed.example/bob/' || q.id, true, \
                    q.created_at + interval '40 minutes', $1 \
             FROM ({seeded_questions}) q WHERE q.tags = ARRAY['printers']"
        ),
    )
    .await;
    t.sql(&format!(
            "UPDATE post p SET accepted_comment_id = c.id, accepted_by = p.author_id FROM comment c \
             WHERE c.post_id = p.id AND c.id IN (SELECT id FROM comment WHERE author_id = {bob} \
               AND post_id NOT IN (SELECT post_id FROM comment WHERE author_id = {eve}) ORDER BY id LIMIT 2)"
        ),
    )
    .await;
    t.sql(&format!(
        "INSERT INTO vote (person_id, comment_id, value) \
             SELECT ({people})[1 + c.id % 197], c.id, 1 FROM comment c WHERE c.author_id = {bob} \
             ORDER BY c.id LIMIT 5"
    ))
    .await;

    // The helpful member: cheerful answers to 60 network questions more than 35 days old, half
    // accepted, each liked twice.
    let hana_id = "(SELECT id FROM person WHERE username = 'hana' AND local)";
    sql_scored(
        &t,
        &format!(
            "INSERT INTO comment (post_id, author_id, body, depth, ap_id, local, created_at, sentiment) \
             SELECT q.id, {hana_id}, '{POSITIVE}', 0, 'https://seed.example/hana/' || q.id, true, \
                    q.created_at + interval '20 minutes', $2 \
             FROM ({seeded_questions}) q \
             WHERE q.tags = ARRAY['network'] AND q.created_at < now() - interval '35 days' \
             ORDER BY q.id LIMIT 60"
        ),
    )
    .await;
    t.sql(&format!(
        "UPDATE post p SET accepted_comment_id = c.id, accepted_by = p.author_id FROM comment c \
             WHERE c.post_id = p.id AND c.author_id = {hana_id} AND c.id % 2 = 0"
    ))
    .await;
    t.sql(&format!(
        "INSERT INTO vote (person_id, comment_id, value) \
             SELECT ({people})[1 + (c.id * 3 + k * 29) % 197], c.id, 1 \
             FROM comment c CROSS JOIN generate_series(1, 2) AS k WHERE c.author_id = {hana_id} \
             ON CONFLICT DO NOTHING"
    ))
    .await;
    let today = Utc::now().date_naive();
    Community {
        t,
        manager,
        hana,
        from: (today - Duration::days(91)).to_string(),
        to: (today + Duration::days(1)).to_string(),
    }
}

fn handles(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["handle"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_expert_outranks_the_busy_member_and_the_souring_helper_raises_an_alert() {
    let c = community().await;
    let t = &c.t;
    let period = format!("from={}&to={}", c.from, c.to);

    let list = t
        .get(
            &format!("/api/v1/community/shortlist?tag=printers&{period}&limit=100"),
            Some(&c.manager),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    let order = handles(&list.json["candidates"]);
    let rank = |name: &str| {
        order
            .iter()
            .position(|h| h.starts_with(&format!("{name}@")))
            .unwrap_or_else(|| panic!("{name} not on the shortlist: {order:?}"))
    };
    assert!(rank("eve") < rank("bob"), "{}", list.json);
    let bob = &list.json["candidates"][rank("bob")];
    // Why a very active member ranks low: answers are rarely accepted or liked.
    assert_eq!(bob["limiting"], "credibility", "{bob}");
    assert_eq!(bob["replies"], 120);
    assert_eq!(bob["accepted"], 2);
    let eve = &list.json["candidates"][rank("eve")];
    assert_eq!(eve["replies"], 10);
    assert_eq!(eve["accepted"], 8);
    assert!(
        bob["contributions_per_week"].as_f64() > eve["contributions_per_week"].as_f64(),
        "the busy member is the more active one"
    );

    // Three negative answers of the helpful member, written now through the API.
    let mut written = Vec::new();
    for (i, body) in NEGATIVE.iter().enumerate() {
        let qid = id_of(
            t,
            &format!(
                "SELECT id FROM post WHERE tags = ARRAY['network'] \
                 AND ap_id LIKE 'https://seed.example/q/%' ORDER BY id DESC OFFSET {i} LIMIT 1"
            ),
        )
        .await;
        let r = t
            .post(
                &format!("/api/v1/posts/{qid}/comments"),
                Some(&c.hana),
                json!({ "body": body }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        written.push(r.json["id"].as_i64().unwrap());
    }
    let alerts = t
        .get(
            &format!("/api/v1/community/alerts?tag=network&{period}"),
            Some(&c.manager),
        )
        .await;
    assert_eq!(alerts.status, StatusCode::OK, "{}", alerts.json);
    assert_eq!(handles(&alerts.json["alerts"]).len(), 1, "{}", alerts.json);
    let alert = &alerts.json["alerts"][0];
    assert!(alert["handle"].as_str().unwrap().starts_with("hana@"));
    assert!(alert["mood_recent"].as_f64().unwrap() < 0.0);
    assert!(alert["mood_before"].as_f64().unwrap() > 0.0);
    let mut causes: Vec<i64> = alert["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["kind"], "comment");
            c["id"].as_i64().unwrap()
        })
        .collect();
    causes.sort_unstable();
    assert_eq!(
        causes, written,
        "the alert names the contributions that caused it"
    );
    // Instance-wide too.
    let everywhere = t
        .get(
            &format!("/api/v1/community/alerts?{period}"),
            Some(&c.manager),
        )
        .await;
    assert_eq!(
        handles(&everywhere.json["alerts"]).len(),
        1,
        "{}",
        everywhere.json
    );
}

#[tokio::test]
async fn member_statistics_cover_the_period_only() {
    let c = community().await;
    let t = &c.t;
    let stats = t
        .get(
            &format!(
                "/api/v1/community/members/eve/stats?tag=printers&from={}&to={}",
                c.from, c.to
            ),
            Some(&c.manager),
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.json);
    let s = &stats.json;
    assert_eq!(s["replies"], 10, "{s}");
    assert_eq!(s["accepted_answers"], 8);
    assert_eq!(s["people_helped"], 10);
    assert!(s["likes_received"].as_f64().unwrap() >= 24.0, "{s}");
    let share = s["accepted_share"].as_f64().unwrap();
    assert!(share > 0.0 && share < 1.0, "{s}");
    // Each of her answers came 30 minutes after its question, before anyone else's.
    assert_eq!(s["first_answers"], 10, "{s}");
    assert!((s["mean_first_answer_secs"].as_f64().unwrap() - 1800.0).abs() < 1.0);
    let trend = s["trend"].as_array().unwrap();
    assert!(trend.len() >= 13);
    let weekly: i64 = trend
        .iter()
        .map(|w| w["contributions"].as_i64().unwrap())
        .sum();
    assert_eq!(weekly, 10);

    // The answer of 119 days ago counts once the period reaches it.
    let today = Utc::now().date_naive();
    let longer = t
        .get(
            &format!(
                "/api/v1/community/members/eve/stats?tag=printers&from={}&to={}",
                today - Duration::days(200),
                c.to
            ),
            Some(&c.manager),
        )
        .await;
    assert_eq!(longer.json["replies"], 11, "{}", longer.json);

    // Bob answered first every printer question but hers, 40 minutes after it was asked.
    let bob = t
        .get(
            &format!(
                "/api/v1/community/members/bob/stats?tag=printers&from={}&to={}",
                c.from, c.to
            ),
            Some(&c.manager),
        )
        .await;
    assert_eq!(bob.json["first_answers"], 110, "{}", bob.json);
    assert!((bob.json["mean_first_answer_secs"].as_f64().unwrap() - 2400.0).abs() < 1.0);
}

/// Instance-wide figures leave private groups out, as the feeds do (their posts' excerpts
/// would otherwise reach the alerts, and their tags the shortlist); a private group's own
/// figures are for whoever may read it, named (community managers and admins moderate every
/// group, the rule of `access::may_read`).
#[tokio::test]
async fn instance_wide_insights_leave_private_groups_out() {
    let (t, admin) = setup().await;
    let manager = t.with_role("manager", Role::CommunityManager).await;
    let created = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "board", "title": "Board", "visibility": "private"}),
        )
        .await;
    assert!(created.status.is_success(), "{}", created.json);
    let q = t
        .post(
            "/api/v1/groups/board/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Merger plans", "tags": ["merger"]}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.json);

    let everywhere = t
        .get("/api/v1/community/members/root/stats", Some(&manager))
        .await;
    assert_eq!(everywhere.status, StatusCode::OK, "{}", everywhere.json);
    assert_eq!(everywhere.json["threads"], 0, "{}", everywhere.json);
    let tag = t
        .get("/api/v1/community/shortlist?tag=merger", Some(&manager))
        .await;
    assert_eq!(tag.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", tag.json);
    let named = t
        .get(
            "/api/v1/community/members/root/stats?group=board",
            Some(&manager),
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.json);
    assert_eq!(named.json["threads"], 1, "{}", named.json);
    let tag_there = t
        .get(
            "/api/v1/community/shortlist?tag=merger&group=board",
            Some(&manager),
        )
        .await;
    assert_eq!(tag_there.status, StatusCode::OK, "{}", tag_there.json);
}

#[tokio::test]
async fn insights_are_for_community_managers_and_refuse_bad_periods_and_tags() {
    let (t, admin) = setup().await;
    let member = t.member("someone").await;
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&member),
            json!({"kind": "question", "title": "Printer jam", "tags": ["printers"]}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.json);
    let r = t.get("/api/v1/community/shortlist", Some(&member)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    let r = t.get("/api/v1/community/shortlist", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let ok = t
        .get("/api/v1/community/shortlist?tag=printers", Some(&admin))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);

    let reason = |r: &Reply| {
        r.json["error"]["details"]["reason"]
            .as_str()
            .map(str::to_owned)
    };
    for (query, expected) in [
        ("tag=nonesuch", "unknown_tag"),
        ("from=2026-06-01&to=2026-05-01", "not_after_from"),
        ("from=2026-06-01&to=2026-06-01", "not_after_from"),
        ("from=2020-01-01&to=2026-01-01", "range_too_long"),
    ] {
        for path in [
            "/api/v1/community/shortlist",
            "/api/v1/community/alerts",
            "/api/v1/community/members/someone/stats",
        ] {
            let r = t.get(&format!("{path}?{query}"), Some(&admin)).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?{query}: {}",
                r.json
            );
            assert_eq!(reason(&r).as_deref(), Some(expected), "{}", r.json);
        }
    }
    let r = t
        .get("/api/v1/community/members/nobody/stats", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// GET a post with a user agent (none: no header) as `token` (None: anonymous) from `peer`.
async fn read_post(t: &TestApp, id: i64, token: Option<&str>, agent: Option<&str>, peer: [u8; 4]) {
    let mut builder = Request::get(format!("/api/v1/posts/{id}"));
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(agent) = agent {
        builder = builder.header(header::USER_AGENT, agent);
    }
    let mut request = builder.body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            peer, 4000,
        ))));
    let r = t.send(request).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

#[tokio::test]
async fn a_view_counts_once_per_viewer_and_day_and_robots_not_at_all() {
    let (t, admin) = setup().await;
    let author = t.member("author").await;
    let reader = t.member("reader").await;
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&author),
            json!({"kind": "question", "title": "Printer jam", "tags": ["printers"]}),
        )
        .await;
    let id = q.json["post"]["id"].as_i64().unwrap();
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let phone = "Cenacle-App/1.2 (Android 15)";
    // A signed-in reader twice, from two addresses: one view.
    read_post(&t, id, Some(&reader), Some(firefox), [192, 0, 2, 10]).await;
    read_post(&t, id, Some(&reader), Some(phone), [192, 0, 2, 11]).await;
    // An anonymous browser twice: one view; the same address with another client: one more.
    read_post(&t, id, None, Some(firefox), [192, 0, 2, 20]).await;
    read_post(&t, id, None, Some(firefox), [192, 0, 2, 20]).await;
    read_post(&t, id, None, Some(phone), [192, 0, 2, 20]).await;
    // Robots, clients without a user agent and the author: none.
    read_post(
        &t,
        id,
        None,
        Some("Mozilla/5.0 (compatible; Googlebot/2.1)"),
        [192, 0, 2, 30],
    )
    .await;
    read_post(&t, id, None, Some("curl/8.5.0"), [192, 0, 2, 31]).await;
    read_post(&t, id, None, None, [192, 0, 2, 32]).await;
    read_post(&t, id, Some(&author), Some(firefox), [192, 0, 2, 33]).await;

    let stats = t
        .get("/api/v1/community/members/author/stats", Some(&admin))
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.json);
    assert_eq!(stats.json["views"], 3, "{}", stats.json);
    assert_eq!(stats.json["threads"], 1);

    // Nothing of the anonymous viewers is kept but a salted hash; a new day deletes the rows
    // and the salt of the days before (simulated: the stored rows moved back a day).
    let anonymous = id_of(
        &t,
        "SELECT count(*) AS id FROM post_view WHERE viewer <> convert_to('person:' || \
         (SELECT id FROM person WHERE username = 'reader'), 'UTF8')",
    )
    .await;
    assert_eq!(anonymous, 2);
    t.sql("UPDATE post_view SET day = day - 1").await;
    t.sql("UPDATE view_salt SET day = day - 1").await;
    read_post(&t, id, Some(&reader), Some(firefox), [192, 0, 2, 10]).await;
    assert_eq!(id_of(&t, "SELECT count(*) AS id FROM post_view").await, 1);
    assert_eq!(id_of(&t, "SELECT count(*) AS id FROM view_salt").await, 1);
    let stats = t
        .get("/api/v1/community/members/author/stats", Some(&admin))
        .await;
    assert_eq!(
        stats.json["views"], 4,
        "a new day, a new view: {}",
        stats.json
    );

    // On a day nobody reads, the hourly upkeep forgets the day before all the same.
    t.sql("UPDATE post_view SET day = day - 1").await;
    t.sql("UPDATE view_salt SET day = day - 1").await;
    let mut conn = t.db.pool.get().await.unwrap();
    let forgotten = cenacle_core::post_views::forget_past_days(&mut conn, 100)
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    assert_eq!(id_of(&t, "SELECT count(*) AS id FROM post_view").await, 0);
    assert_eq!(id_of(&t, "SELECT count(*) AS id FROM view_salt").await, 0);
    let stats = t
        .get("/api/v1/community/members/author/stats", Some(&admin))
        .await;
    assert_eq!(stats.json["views"], 4, "the counts stay: {}", stats.json);
}
