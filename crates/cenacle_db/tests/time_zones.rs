//! Migration `2026-12-01-003117_digest_time_zone` against a real PostgreSQL: the members'
//! fixed offsets become time-zone names (PostgreSQL's tz database checks the POSIX sign
//! inversion of `Etc/GMT∓h`): an offset kept all year by a place maps to it, one that only a
//! single place uses part of the year (Newfoundland's −02:30 summer) to that place, anything
//! else to UTC; and back. The migration's table is the one the configuration's deprecated
//! `email.default_utc_offset_minutes` is read with (`cenacle_domain::digest::zone_of_utc_offset`).

use cenacle_db::testing::fresh_database;
use cenacle_domain::digest::zone_of_utc_offset;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

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

/// Members with these old offsets, on a database taken back to before the migration.
async fn members_with_offsets(
    conn: &mut AsyncPgConnection,
    offsets: impl IntoIterator<Item = (String, Option<i32>)>,
) {
    conn.batch_execute(DOWN).await.unwrap();
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
}

async fn carried(conn: &mut AsyncPgConnection) -> Vec<Carried> {
    diesel::sql_query(
        "SELECT p.username, u.time_zone, \
                (SELECT (extract(epoch FROM z.utc_offset) / 60)::integer \
                 FROM pg_timezone_names z WHERE z.name = u.time_zone) AS offset_now \
         FROM local_user u JOIN person p ON p.id = u.person_id ORDER BY u.person_id",
    )
    .load(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn offsets_are_carried_over_to_the_one_place_that_keeps_them() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let offsets: [(&str, Option<i32>); 17] = [
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
        ("darwin", Some(570)),
        ("tehran", Some(210)),
        ("newfoundland", Some(-210)),
        ("newfoundland_summer", Some(-150)),
        ("chatham", Some(765)),
        ("chatham_summer", Some(825)),
        // Lord Howe's standard time and South Australia's summer time: two places.
        ("lord_howe_or_adelaide", Some(630)),
    ];
    members_with_offsets(
        &mut conn,
        offsets.map(|(name, offset)| (name.to_owned(), offset)),
    )
    .await;

    conn.batch_execute(UP).await.unwrap();
    let carried = carried(&mut conn).await;
    // (name, zone, the offsets the zone may have today: its summer's or its winter's).
    let expected: [(&str, Option<&str>, &[i32]); 17] = [
        ("unset", None, &[]),
        ("utc", Some("UTC"), &[0]),
        ("paris", Some("Etc/GMT-1"), &[60]),
        ("new_york", Some("Etc/GMT+5"), &[-300]),
        ("kiritimati", Some("Etc/GMT-14"), &[840]),
        ("baker", Some("Etc/GMT+12"), &[-720]),
        ("kolkata", Some("Asia/Kolkata"), &[330]),
        ("kathmandu", Some("Asia/Kathmandu"), &[345]),
        ("marquesas", Some("Pacific/Marquesas"), &[-570]),
        ("eucla", Some("Australia/Eucla"), &[525]),
        ("darwin", Some("Australia/Darwin"), &[570]),
        // Iran has kept +03:30 all year since 2022.
        ("tehran", Some("Asia/Tehran"), &[210]),
        // Only Newfoundland uses −03:30 and −02:30: its clock, summer time followed.
        ("newfoundland", Some("America/St_Johns"), &[-210, -150]),
        (
            "newfoundland_summer",
            Some("America/St_Johns"),
            &[-210, -150],
        ),
        ("chatham", Some("Pacific/Chatham"), &[765, 825]),
        ("chatham_summer", Some("Pacific/Chatham"), &[765, 825]),
        ("lord_howe_or_adelaide", Some("UTC"), &[0]),
    ];
    assert_eq!(carried.len(), expected.len());
    for (got, (name, zone, offsets_now)) in carried.iter().zip(expected) {
        assert_eq!(got.username, name);
        assert_eq!(got.time_zone.as_deref(), zone, "{name}");
        match got.offset_now {
            None => assert!(zone.is_none(), "{name}: PostgreSQL knows no {zone:?}"),
            Some(now) => assert!(offsets_now.contains(&now), "{name}: {now}"),
        }
    }

    // And back: each zone's offset of the moment (exact for every zone that keeps its
    // offset all year; for the others, the season's).
    conn.batch_execute(DOWN).await.unwrap();
    let back: Vec<Back> = diesel::sql_query(
        "SELECT p.username, u.utc_offset_minutes FROM local_user u \
         JOIN person p ON p.id = u.person_id ORDER BY u.person_id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    for (back, (got, (name, offset))) in back.iter().zip(carried.iter().zip(offsets)) {
        assert_eq!(back.username, name);
        let expected = match name {
            "newfoundland" | "newfoundland_summer" | "chatham" | "chatham_summer" => got.offset_now,
            "lord_howe_or_adelaide" => Some(0),
            _ => offset,
        };
        assert_eq!(back.utc_offset_minutes, expected, "{name}");
    }
    // Up again leaves the database as the migrations do.
    conn.batch_execute(UP).await.unwrap();
}

/// Every offset the old column allowed, by quarter hours: the migration maps it as the
/// configuration's deprecated key is read (the same table), UTC where that refuses it.
#[tokio::test]
async fn the_migration_and_the_configuration_carry_every_offset_alike() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let offsets: Vec<i32> = (-720..=840).step_by(15).collect();
    members_with_offsets(
        &mut conn,
        offsets
            .iter()
            .map(|m| (format!("at_{}", m + 720), Some(*m))),
    )
    .await;
    conn.batch_execute(UP).await.unwrap();
    let carried = carried(&mut conn).await;
    assert_eq!(carried.len(), offsets.len());
    for (got, m) in carried.iter().zip(&offsets) {
        let expected = zone_of_utc_offset(*m).unwrap_or_else(|| "UTC".into());
        assert_eq!(got.time_zone.as_deref(), Some(expected.as_str()), "{m}");
        assert!(got.offset_now.is_some(), "{m}: PostgreSQL knows {expected}");
    }
    conn.batch_execute(DOWN).await.unwrap();
    conn.batch_execute(UP).await.unwrap();
}
