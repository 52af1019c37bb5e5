//! Migration `2026-12-01-003117_digest_time_zone` against a real PostgreSQL: the members'
//! fixed offsets become time-zone names keeping the same offset all year (PostgreSQL's tz
//! database checks the POSIX sign inversion of `Etc/GMT∓h`), the rest UTC; and back.

use cenacle_db::testing::fresh_database;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

const UP: &str = include_str!("../../../migrations/2026-12-01-003117_digest_time_zone/up.sql");
const DOWN: &str = include_str!("../../../migrations/2026-12-01-003117_digest_time_zone/down.sql");

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Carried {
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Nullable<Text>)]
    time_zone: Option<String>,
    /// The zone's offset today, in minutes, by PostgreSQL.
    #[diesel(sql_type = Nullable<Integer>)]
    offset_now: Option<i32>,
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Back {
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Nullable<Integer>)]
    utc_offset_minutes: Option<i32>,
}

#[tokio::test]
async fn offsets_are_carried_over_to_zones_that_keep_them_all_year() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    // Back to the offsets, as before the migration, and members who had set them.
    conn.batch_execute(DOWN).await.unwrap();
    let offsets: [(&str, Option<i32>); 12] = [
        ("unset", None),
        ("utc", Some(0)),
        ("paris", Some(60)),
        ("new_york", Some(-300)),
        ("kiritimati", Some(840)),
        ("baker", Some(-720)),
        ("kolkata", Some(330)),
        ("kathmandu", Some(345)),
        ("marquesas", Some(-570)),
        ("eucla", Some(525)),
        ("tehran", Some(210)),
        ("newfoundland", Some(-210)),
    ];
    for (name, offset) in offsets {
        let offset = offset.map_or("NULL".to_owned(), |m| m.to_string());
        conn.batch_execute(&format!(
            "WITH p AS (INSERT INTO person (username, local) VALUES ('{name}', true) RETURNING id) \
             INSERT INTO local_user (person_id, password_hash, utc_offset_minutes) \
             SELECT id, 'x', {offset} FROM p"
        ))
        .await
        .unwrap();
    }

    conn.batch_execute(UP).await.unwrap();
    let carried: Vec<Carried> = diesel::sql_query(
        "SELECT p.username, u.time_zone, \
                (SELECT (extract(epoch FROM z.utc_offset) / 60)::integer \
                 FROM pg_timezone_names z WHERE z.name = u.time_zone) AS offset_now \
         FROM local_user u JOIN person p ON p.id = u.person_id ORDER BY u.person_id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let expected = [
        ("unset", None, None),
        ("utc", Some("UTC"), Some(0)),
        ("paris", Some("Etc/GMT-1"), Some(60)),
        ("new_york", Some("Etc/GMT+5"), Some(-300)),
        ("kiritimati", Some("Etc/GMT-14"), Some(840)),
        ("baker", Some("Etc/GMT+12"), Some(-720)),
        ("kolkata", Some("Asia/Kolkata"), Some(330)),
        ("kathmandu", Some("Asia/Kathmandu"), Some(345)),
        ("marquesas", Some("Pacific/Marquesas"), Some(-570)),
        ("eucla", Some("Australia/Eucla"), Some(525)),
        // No place keeps these all year: UTC, which the member sees and may change.
        ("tehran", Some("UTC"), Some(0)),
        ("newfoundland", Some("UTC"), Some(0)),
    ];
    let expected: Vec<Carried> = expected
        .into_iter()
        .map(|(username, zone, offset_now)| Carried {
            username: username.into(),
            time_zone: zone.map(str::to_owned),
            offset_now,
        })
        .collect();
    assert_eq!(carried, expected);

    // And back: each zone's offset of the moment (exact for every zone carried over).
    conn.batch_execute(DOWN).await.unwrap();
    let back: Vec<Back> = diesel::sql_query(
        "SELECT p.username, u.utc_offset_minutes FROM local_user u \
         JOIN person p ON p.id = u.person_id ORDER BY u.person_id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    for (back, (name, offset)) in back.iter().zip(offsets) {
        assert_eq!(back.username, name);
        let expected = match name {
            "tehran" | "newfoundland" => Some(0),
            _ => offset,
        };
        assert_eq!(back.utc_offset_minutes, expected, "{name}");
    }
    // Up again leaves the database as the migrations do.
    conn.batch_execute(UP).await.unwrap();
}
