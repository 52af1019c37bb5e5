//! Statements of the inbox's path that PostgreSQL plans once per connection, against a real
//! PostgreSQL (issue 9: re-planning them was a sixth of its CPU per inbound Like).

use cenacle_db::{instance_moderation, testing::fresh_database};
use diesel::{sql_types::BigInt, QueryableByName};
use diesel_async::RunQueryDsl;

#[derive(QueryableByName)]
struct Plans {
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    custom_plans: i64,
}

/// The verdicts of one or two hosts (what the inbox asks), of none, and of more than two, are
/// read right, each host once; and with many instances known the statement settles on a
/// generic plan after PostgreSQL's five custom ones (`host = ANY($1)` never did: its generic
/// plan is costed for ten elements).
#[tokio::test]
async fn host_verdicts_are_read_by_one_plan() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO instance (host, blocked, allowed) \
         SELECT 'h' || g || '.example', g % 3 = 0, g % 5 = 0 FROM generate_series(1, 5000) g",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query("ANALYZE instance")
        .execute(&mut conn)
        .await
        .unwrap();
    let read = async |conn: &mut _, hosts: &[&str]| {
        let mut found: Vec<(String, bool, bool)> = instance_moderation::verdicts(conn, hosts)
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.host, v.blocked, v.allowed))
            .collect();
        found.sort();
        found
    };
    let v = |host: &str, blocked, allowed| (host.to_owned(), blocked, allowed);
    for _ in 0..8 {
        assert_eq!(
            read(&mut conn, &["h3.example"]).await,
            [v("h3.example", true, false)]
        );
        assert_eq!(
            read(&mut conn, &["h10.example", "h9.example"]).await,
            [v("h10.example", false, true), v("h9.example", true, false)]
        );
        assert_eq!(
            read(&mut conn, &["h4.example", "unknown.example"]).await,
            [v("h4.example", false, false)]
        );
    }
    assert!(read(&mut conn, &[]).await.is_empty());
    assert_eq!(
        read(
            &mut conn,
            &["h1.example", "h2.example", "h15.example", "h1.example"]
        )
        .await,
        [
            v("h1.example", false, false),
            v("h15.example", true, true),
            v("h2.example", false, false)
        ]
    );
    let plans: Plans = diesel::sql_query(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
         WHERE statement LIKE '%FROM instance WHERE host IN ($1, $2)%'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(
        plans.generic_plans > 0 && plans.custom_plans <= 5,
        "generic {}, custom {}",
        plans.generic_plans,
        plans.custom_plans
    );
}
