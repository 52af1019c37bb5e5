//! Storage against a real PostgreSQL: the harness, migrations, and the constraint names the
//! API relies on.

use cenacle_db::{
    accounts::{self, NewAccount},
    actors::LocalIdentity,
    testing::{empty_database, fresh_database},
    ConstraintViolation,
};
use cenacle_domain::{AccountStatus, Language, Role};
use chrono::{Duration, Utc};

fn identity(username: &str) -> &'static LocalIdentity {
    // Leaked: a handful per test process, and it keeps the helper's signature simple.
    Box::leak(Box::new(LocalIdentity {
        ap_id: format!("http://test.example/u/{username}"),
        inbox_url: format!("http://test.example/u/{username}/inbox"),
        shared_inbox_url: "http://test.example/inbox".into(),
        public_key_pem: "public".into(),
        private_key_pem: "private".into(),
    }))
}

fn new_account<'a>(username: &'a str, email: Option<&'static str>) -> NewAccount<'a> {
    NewAccount {
        username,
        identity: identity(username),
        email,
        password_hash: "not-a-real-hash",
        role: Role::Member,
        language: Language::Fr,
        status: AccountStatus::Active,
        registration_reason: None,
        email_verified: false,
    }
}

#[tokio::test]
async fn each_test_gets_its_own_database() {
    let a = fresh_database().await;
    let b = fresh_database().await;
    assert_ne!(a.name, b.name);
    let mut conn = a.pool.get().await.unwrap();
    accounts::insert_account(&mut conn, &new_account("marie", None))
        .await
        .unwrap();
    let mut other = b.pool.get().await.unwrap();
    assert!(accounts::find_by_username(&mut other, "marie")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn duplicate_username_and_email_name_their_constraint() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let marie = accounts::insert_account(&mut conn, &new_account("marie", Some("m@example.org")))
        .await
        .unwrap();
    assert_eq!(marie.language, Language::Fr);
    let err = accounts::insert_account(&mut conn, &new_account("marie", None))
        .await
        .unwrap_err();
    assert_eq!(
        err.constraint_violation(),
        Some(ConstraintViolation::Unique("person_local_username_key"))
    );
    // E-mail uniqueness ignores case.
    let err = accounts::insert_account(&mut conn, &new_account("pierre", Some("M@Example.org")))
        .await
        .unwrap_err();
    assert_eq!(
        err.constraint_violation(),
        Some(ConstraintViolation::Unique("local_user_email_key"))
    );
}

#[tokio::test]
async fn tokens_expire_and_revoke() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let marie = accounts::insert_account(&mut conn, &new_account("marie", None))
        .await
        .unwrap();
    let now = Utc::now();
    let live = accounts::insert_token(
        &mut conn,
        marie.person_id,
        b"live",
        now + Duration::hours(1),
    )
    .await
    .unwrap();
    accounts::insert_token(
        &mut conn,
        marie.person_id,
        b"expired",
        now - Duration::seconds(1),
    )
    .await
    .unwrap();
    let (found, id) = accounts::find_by_token(&mut conn, b"live", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.username.as_str(), id), ("marie", live));
    assert!(accounts::find_by_token(&mut conn, b"expired", now)
        .await
        .unwrap()
        .is_none());
    accounts::revoke_token(&mut conn, live).await.unwrap();
    assert!(accounts::find_by_token(&mut conn, b"live", now)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_invitation_is_used_once() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let admin = accounts::insert_account(&mut conn, &new_account("admin", None))
        .await
        .unwrap();
    let marie = accounts::insert_account(&mut conn, &new_account("marie", None))
        .await
        .unwrap();
    let now = Utc::now();
    accounts::insert_invite(&mut conn, admin.person_id, b"code", now + Duration::days(1))
        .await
        .unwrap();
    assert!(
        accounts::use_invite(&mut conn, b"code", marie.person_id, now)
            .await
            .unwrap()
    );
    assert!(
        !accounts::use_invite(&mut conn, b"code", marie.person_id, now)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_are_idempotent() {
    let url = empty_database().await;
    let url2 = url.clone();
    let applied = tokio::task::spawn_blocking(move || cenacle_db::run_migrations(&url2))
        .await
        .unwrap()
        .unwrap();
    assert!(!applied.is_empty());
    let again = tokio::task::spawn_blocking(move || cenacle_db::run_migrations(&url))
        .await
        .unwrap()
        .unwrap();
    assert!(again.is_empty());
}

/// Deadlocks are recognised by PostgreSQL's English message (the driver gives no code): every
/// pooled connection sets `lc_messages = 'C'`, whatever the server or database says.
#[tokio::test]
async fn pooled_connections_speak_the_c_locale() {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        lc_messages: String,
    }
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    diesel::sql_query(format!(
        "ALTER DATABASE \"{}\" SET lc_messages = 'C.utf8'",
        db.name
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let pool = cenacle_db::connect_pool(&db.url, 1, std::time::Duration::from_secs(30)).unwrap();
    let mut conn = pool.get().await.unwrap();
    let setting: Setting = diesel::sql_query("SHOW lc_messages")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(setting.lc_messages, "C");
}

/// A person of another server named by a confirmed handle host (`alice@masto.example`, actor
/// at `social.masto.example`) is found by either host; refreshed under the same name (any
/// case) they keep it; renamed, they lose it (no server confirmed the new name there, and it
/// could otherwise take another person's handle: one handle names one person); a second
/// person confirmed for the same handle takes it from the first.
#[tokio::test]
async fn a_handle_host_names_one_person_and_goes_when_they_are_renamed() {
    use cenacle_db::actors;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let remote = split_domain_person;
    let alice_id = "https://social.masto.example/users/alice";
    let alice = actors::upsert_remote_person(&mut conn, &remote(alice_id, "alice"))
        .await
        .unwrap();
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    let by = |host: &'static str| {
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            actors::remote_person_by_handle(&mut conn, "ALICE", host)
                .await
                .unwrap()
                .map(|p| p.ap_id.unwrap())
        }
    };
    assert_eq!(by("masto.example").await.as_deref(), Some(alice_id));
    assert_eq!(by("social.masto.example").await.as_deref(), Some(alice_id));

    actors::upsert_remote_person(&mut conn, &remote(alice_id, "Alice"))
        .await
        .unwrap();
    assert_eq!(
        by("masto.example").await.as_deref(),
        Some(alice_id),
        "same name"
    );

    let other_id = "https://social.masto.example/users/alice2";
    let other = actors::upsert_remote_person(&mut conn, &remote(other_id, "alice"))
        .await
        .unwrap();
    actors::set_handle_host(&mut conn, other.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    let holders: Vec<Option<String>> = {
        use cenacle_db::schema::person::dsl::*;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        person
            .filter(ap_id.eq_any([alice_id, other_id]))
            .order(id)
            .select(handle_host)
            .load(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(holders, [None, Some("masto.example".to_owned())], "taken");

    let renamed = actors::upsert_remote_person(&mut conn, &remote(other_id, "alicia"))
        .await
        .unwrap();
    assert_eq!(
        renamed.handle_host, None,
        "renamed: the handle was another name's"
    );
    assert_eq!(by("masto.example").await, None);
}

/// A handle host is dated when both servers confirm it, dated anew when they confirm it
/// again (texts naming the handle look it up once that date is old), and undated when it
/// goes: cleared, taken by another person, or lost to a rename.
#[tokio::test]
async fn a_handle_host_is_dated_when_confirmed_and_undated_when_it_goes() {
    use cenacle_db::actors;
    use diesel_async::RunQueryDsl;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let remote = split_domain_person;
    let alice = actors::upsert_remote_person(
        &mut conn,
        &remote("https://social.masto.example/users/alice", "alice"),
    )
    .await
    .unwrap();
    assert_eq!(
        alice.handle_host_confirmed_at, None,
        "named by its actor's host"
    );
    let confirmed_at = |id: i64| {
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            let person = actors::person_by_id(&mut conn, id).await.unwrap().unwrap();
            person.handle_host_confirmed_at
        }
    };

    let before = Utc::now() - Duration::minutes(1);
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    let first = confirmed_at(alice.id).await.expect("dated");
    assert!(first > before, "dated now: {first}");

    diesel::sql_query(format!(
        "UPDATE person SET handle_host_confirmed_at = now() - interval '8 days' WHERE id = {}",
        alice.id
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    let again = confirmed_at(alice.id).await.expect("dated");
    assert!(again > before, "confirmed again: dated anew ({again})");

    // Refreshed under the same name, the date stays; cleared, it goes.
    let refreshed = actors::upsert_remote_person(
        &mut conn,
        &remote("https://social.masto.example/users/alice", "Alice"),
    )
    .await
    .unwrap();
    assert_eq!(refreshed.handle_host_confirmed_at, Some(again));
    actors::set_handle_host(&mut conn, alice.id, None, Utc::now())
        .await
        .unwrap();
    assert_eq!(confirmed_at(alice.id).await, None, "cleared");

    // Taken by another, or lost to a rename: undated with it.
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    let other = actors::upsert_remote_person(
        &mut conn,
        &remote("https://social.masto.example/users/alice2", "alice"),
    )
    .await
    .unwrap();
    actors::set_handle_host(&mut conn, other.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    assert_eq!(confirmed_at(alice.id).await, None, "taken by another");
    assert!(confirmed_at(other.id).await.is_some());
    let renamed = actors::upsert_remote_person(
        &mut conn,
        &remote("https://social.masto.example/users/alice2", "alicia"),
    )
    .await
    .unwrap();
    assert_eq!(
        (renamed.handle_host, renamed.handle_host_confirmed_at),
        (None, None),
        "renamed"
    );
}

/// A 404 for a confirmed handle is a miss, dated on its holder, who keeps the handle; another
/// too soon after it keeps the first date; a confirmation forgets it (an old miss then counts
/// for nothing); a miss at least the interval after the one recorded takes the handle, with
/// its dates. Renamed, a holder loses a recorded miss with the handle. Before, there was no
/// miss: any 404 took the handle.
#[tokio::test]
async fn a_404_takes_a_handle_host_only_once_misses_persist() {
    use cenacle_db::actors::{self, HandleHostMiss};
    use diesel_async::RunQueryDsl;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let alice = split_domain_alice(&mut conn).await;
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    let miss = || {
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            miss_at(&mut conn, "ALICE", "masto.example", Utc::now())
                .await
                .unwrap()
        }
    };
    let stored = || {
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            actors::person_by_id(&mut conn, alice.id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let missed_two_hours_ago = format!(
        "UPDATE person SET handle_host_missed_at = now() - interval '2 hours' WHERE id = {}",
        alice.id
    );

    assert_eq!(miss().await, HandleHostMiss::Recorded);
    let first = stored().await;
    assert_eq!(first.handle_host.as_deref(), Some("masto.example"), "kept");
    assert!(first.handle_host_missed_at.is_some(), "the miss dated");
    assert_eq!(miss().await, HandleHostMiss::Recorded, "too soon");
    assert_eq!(
        stored().await.handle_host_missed_at,
        first.handle_host_missed_at,
        "the first miss keeps its date"
    );

    // Confirmed in between: the old miss is forgotten, and the next 404 is a first miss.
    diesel::sql_query(&missed_two_hours_ago)
        .execute(&mut conn)
        .await
        .unwrap();
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    assert_eq!(stored().await.handle_host_missed_at, None, "confirmed");
    assert_eq!(miss().await, HandleHostMiss::Recorded);

    diesel::sql_query(&missed_two_hours_ago)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(miss().await, HandleHostMiss::Taken, "the misses persisted");
    let taken = stored().await;
    assert_eq!(
        (
            taken.handle_host,
            taken.handle_host_confirmed_at,
            taken.handle_host_missed_at
        ),
        (None, None, None)
    );
    assert_eq!(miss().await, HandleHostMiss::NotHeld);

    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    assert_eq!(miss().await, HandleHostMiss::Recorded);
    let renamed =
        actors::upsert_remote_person(&mut conn, &split_domain_person(SPLIT_ALICE, "alicia"))
            .await
            .unwrap();
    assert_eq!(
        (renamed.handle_host, renamed.handle_host_missed_at),
        (None, None),
        "renamed"
    );
}

/// A miss recorded longer ago than the interval misses are forgotten after counts as none:
/// the next 404 is a first miss again, dated now, and the handle is kept. Before, a miss
/// counted until a confirmation, however old: two passing faults days apart (no text naming
/// the handle between) took it.
#[tokio::test]
async fn a_miss_older_than_a_day_is_forgotten_and_the_next_404_is_a_first_miss() {
    use cenacle_db::actors::{self, HandleHostMiss};
    use diesel_async::RunQueryDsl;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let alice = split_domain_alice(&mut conn).await;
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    let miss = miss_at(&mut conn, "alice", "masto.example", Utc::now())
        .await
        .unwrap();
    assert_eq!(miss, HandleHostMiss::Recorded);
    diesel::sql_query(format!(
        "UPDATE person SET handle_host_missed_at = now() - interval '25 hours' WHERE id = {}",
        alice.id
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let before = Utc::now();
    let miss = miss_at(&mut conn, "alice", "masto.example", Utc::now())
        .await
        .unwrap();
    assert_eq!(miss, HandleHostMiss::Recorded, "a first miss again");
    let stored = actors::person_by_id(&mut conn, alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.handle_host.as_deref(), Some("masto.example"), "kept");
    // The database's clock and ours may differ a little: "dated now" within a minute.
    let missed_at = stored.handle_host_missed_at.expect("a miss recorded");
    assert!(
        missed_at > before - Duration::minutes(1),
        "dated anew: {missed_at}, not 25 hours back"
    );
}

/// A miss is of the handle held: the check refuses a row with a miss recorded and no handle
/// host (what takes or clears the handle clears the miss with it).
#[tokio::test]
async fn a_miss_cannot_outlive_the_handle_it_is_of() {
    use cenacle_db::actors;
    use diesel_async::RunQueryDsl;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let alice = split_domain_alice(&mut conn).await;
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), Utc::now())
        .await
        .unwrap();
    diesel::sql_query(format!(
        "UPDATE person SET handle_host_missed_at = now() WHERE id = {}",
        alice.id
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let refused = diesel::sql_query(format!(
        "UPDATE person SET handle_host = NULL WHERE id = {}",
        alice.id
    ))
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("person_handle_host_missed_at_check"),
        "{refused}"
    );
    let stored = actors::person_by_id(&mut conn, alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.handle_host.as_deref(), Some("masto.example"));
}

/// Two lookups of one handle at once: B, asked after A, gets a 404 and records a miss; A's
/// older confirmation (its answers asked before B's 404) is stored after it. The newer miss
/// stands (the handle stays due: the next text naming it asks again), and so does a newer
/// miss against the handle's host's older word alone (`forget_handle_miss`). Before, the
/// older answer, stored last, erased it: the handle believed for a week from then.
#[tokio::test]
async fn an_older_confirmation_written_last_keeps_a_newer_miss() {
    use cenacle_db::actors::{self, HandleHostMiss};
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let alice = split_domain_alice(&mut conn).await;
    let now = Utc::now();
    let (before, a, b) = (now - Duration::minutes(2), now - Duration::minutes(1), now);
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), before)
        .await
        .unwrap();
    let missed_at = || {
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            let person = actors::person_by_id(&mut conn, alice.id).await.unwrap();
            person.unwrap().handle_host_missed_at
        }
    };

    // A asks; B asks later and gets a 404, stored first.
    let miss = miss_at(&mut conn, "alice", "masto.example", b)
        .await
        .unwrap();
    assert_eq!(miss, HandleHostMiss::Recorded);
    // A's confirmation by both servers, stored last.
    let stored = actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), a)
        .await
        .unwrap();
    assert!(
        missed_at().await.is_some(),
        "an older confirmation erased a newer miss"
    );
    assert!(!stored);

    // The same with A's answer from the handle's host alone (its miss forgotten).
    let forgotten = actors::forget_handle_miss(&mut conn, alice.id, "masto.example", a)
        .await
        .unwrap();
    assert!(!forgotten, "an older link forgot a newer miss");
    assert!(missed_at().await.is_some());

    // Answers of lookups that began later than B still count.
    let forgotten = actors::forget_handle_miss(&mut conn, alice.id, "masto.example", Utc::now())
        .await
        .unwrap();
    assert!(forgotten, "a newer link forgets the miss");
}

/// The reverse order: B's confirmation, asked after A's 404 (or A's 410), is stored first;
/// A's older denial, stored last, changes nothing, and a newer one counts. Before, the older
/// 404 was recorded as a miss after the newer confirmation (one more 404 an hour on took the
/// handle, the confirmation between them lost), and the older 410 took the handle.
#[tokio::test]
async fn an_older_denial_written_last_keeps_a_newer_confirmation() {
    use cenacle_db::actors::{self, HandleHostMiss};
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let alice = split_domain_alice(&mut conn).await;
    let now = Utc::now();
    let (a, b) = (now - Duration::minutes(1), now);

    // A asks (a 404); B asks later, and its confirmation is stored first.
    actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), b)
        .await
        .unwrap();
    let miss = miss_at(&mut conn, "alice", "masto.example", a)
        .await
        .unwrap();
    assert_eq!(miss, HandleHostMiss::NotHeld, "an older 404 counted");
    let stored = actors::person_by_id(&mut conn, alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.handle_host_missed_at, None);

    // A's 410 (the account gone), asked before B's confirmation: the handle stays.
    let taken = actors::take_handle_host(&mut conn, "alice", "masto.example", a)
        .await
        .unwrap();
    assert_eq!(taken, 0, "an older 410 took the handle");

    // A 410 of a lookup that began after B's takes it; an older confirmation (B's again,
    // stored late) does not give it back.
    let later = Utc::now();
    let taken = actors::take_handle_host(&mut conn, "alice", "masto.example", later)
        .await
        .unwrap();
    assert_eq!(taken, 1);
    let stored = actors::set_handle_host(&mut conn, alice.id, Some("masto.example"), b)
        .await
        .unwrap();
    assert!(!stored, "an older confirmation undid a newer 410");
    let alice = actors::person_by_id(&mut conn, alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.handle_host, None);
}

/// Two lookups of one handle, each finding another person by it: B, asked after A, finds
/// bob2 (the handle's server gave it to a new account) and its confirmation, stored first,
/// takes the handle from bob; A's older confirmation of bob, stored last, does not take it
/// back. Nor, once a newer lookup gave it back to bob, does an older one of bob2, from bob or
/// (a newer 410 having taken it from bob) from no one: who lost it is dated with the answer
/// that took it. Before, bob's older confirmation took the handle back: neither the holder's
/// row nor its date was checked (and, the loser undated, bob2's older one took it after the
/// 410).
#[tokio::test]
async fn an_older_confirmation_written_last_does_not_take_a_handle_back() {
    use cenacle_db::actors;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let (bob_id, bob2_id) = (
        "https://social.masto.example/users/bob",
        "https://social.masto.example/users/bob2",
    );
    let bob = actors::upsert_remote_person(&mut conn, &split_domain_person(bob_id, "bob"))
        .await
        .unwrap();
    let bob2 = actors::upsert_remote_person(&mut conn, &split_domain_person(bob2_id, "Bob"))
        .await
        .unwrap();
    let now = Utc::now();
    let at = |minutes_ago: i64| now - Duration::minutes(minutes_ago);
    let (before, a, b, between, c, d) = (at(6), at(5), at(4), at(3), at(2), at(1));
    let host = Some("masto.example");
    assert!(actors::set_handle_host(&mut conn, bob.id, host, before)
        .await
        .unwrap());
    let holders = || {
        let pool = db.pool.clone();
        async move {
            use cenacle_db::schema::person::dsl::*;
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            let mut conn = pool.get().await.unwrap();
            let holders: Vec<Option<String>> = person
                .filter(ap_id.eq_any([bob_id, bob2_id]))
                .order(id)
                .select(handle_host)
                .load(&mut conn)
                .await
                .unwrap();
            holders
        }
    };
    let (bobs, bob2s) = (
        [Some("masto.example".to_owned()), None],
        [None, Some("masto.example".to_owned())],
    );

    // A asks about bob; B asks later, finds bob2, and stores its confirmation first.
    assert!(actors::set_handle_host(&mut conn, bob2.id, host, b)
        .await
        .unwrap());
    assert_eq!(holders().await, bob2s, "taken by the newer confirmation");
    // A's confirmation of bob, stored last.
    let stored = actors::set_handle_host(&mut conn, bob.id, host, a)
        .await
        .unwrap();
    assert_eq!(
        holders().await,
        bob2s,
        "an older confirmation took the handle back"
    );
    assert!(!stored);

    // A lookup that began later gives it back to bob; an older one of bob2 does not retake it,
    // from bob or, once a newer 410 took it from bob, from no one: bob2 was dated with the
    // answer that took it from them.
    assert!(actors::set_handle_host(&mut conn, bob.id, host, c)
        .await
        .unwrap());
    assert_eq!(holders().await, bobs);
    let stored = actors::set_handle_host(&mut conn, bob2.id, host, between)
        .await
        .unwrap();
    assert_eq!(
        holders().await,
        bobs,
        "an older confirmation retook it from whoever a newer one gave it to"
    );
    assert!(!stored);
    let taken = actors::take_handle_host(&mut conn, "bob", "masto.example", d)
        .await
        .unwrap();
    assert_eq!(taken, 1);
    let stored = actors::set_handle_host(&mut conn, bob2.id, host, between)
        .await
        .unwrap();
    assert_eq!(
        holders().await,
        [None, None],
        "an answer older than the one that took the handle from them gave it back"
    );
    assert!(!stored);
}

/// A newer confirmation that had nothing to renew (the handle host as stored, not due) still
/// dates it: an older lookup's 404 or 410 stored after it changes nothing. Before, nothing
/// was written, and the older 404 counted as a miss (the handle due again, and taken at the
/// next 404 an hour on, the confirmation between them lost).
#[tokio::test]
async fn a_newer_confirmation_with_nothing_to_renew_keeps_an_older_denial_out() {
    use cenacle_db::actors::{self, HandleHostMiss};
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let alice = split_domain_alice(&mut conn).await;
    let now = Utc::now();
    let (before, a, b) = (now - Duration::minutes(2), now - Duration::minutes(1), now);
    let host = Some("masto.example");
    actors::set_handle_host(&mut conn, alice.id, host, before)
        .await
        .unwrap();

    // A miss recorded at `a`: an older confirmation with nothing to renew does not forget it.
    let miss = miss_at(&mut conn, "alice", "masto.example", a)
        .await
        .unwrap();
    assert_eq!(miss, HandleHostMiss::Recorded);
    let dated = actors::handle_host_confirmed_unchanged(&mut conn, alice.id, host, before)
        .await
        .unwrap();
    assert!(!dated, "an older confirmation was stored");
    assert!(
        missed_at(&mut conn, alice.id).await.is_some(),
        "an older confirmation forgot a newer miss"
    );

    // A asks (it will get a 404); B asks later and confirms the handle as stored, forgetting
    // the miss.
    let dated = actors::handle_host_confirmed_unchanged(&mut conn, alice.id, host, b)
        .await
        .unwrap();
    assert!(dated);
    assert_eq!(
        missed_at(&mut conn, alice.id).await,
        None,
        "a newer confirmation kept the miss"
    );
    // A's 404, stored last.
    let miss = miss_at(&mut conn, "alice", "masto.example", a)
        .await
        .unwrap();
    assert_eq!(miss, HandleHostMiss::NotHeld, "an older 404 counted");
    let taken = actors::take_handle_host(&mut conn, "alice", "masto.example", a)
        .await
        .unwrap();
    assert_eq!(taken, 0, "an older 410 took the handle");

    // Only forward, and only the handle host held.
    assert!(
        !actors::handle_host_confirmed_unchanged(&mut conn, alice.id, host, a)
            .await
            .unwrap()
    );
    assert!(
        !actors::handle_host_confirmed_unchanged(&mut conn, alice.id, None, Utc::now())
            .await
            .unwrap()
    );
    let stored = actors::person_by_id(&mut conn, alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.handle_host.as_deref(), host);
    assert_eq!(stored.handle_host_missed_at, None);
}

/// When `person_id`'s handle miss was recorded, as stored.
async fn missed_at(
    conn: &mut diesel_async::AsyncPgConnection,
    person_id: i64,
) -> Option<chrono::DateTime<Utc>> {
    let stored = cenacle_db::actors::person_by_id(conn, person_id)
        .await
        .unwrap();
    stored.unwrap().handle_host_missed_at
}

/// Alice of social.masto.example, whose handle names masto.example (a split domain).
const SPLIT_ALICE: &str = "https://social.masto.example/users/alice";

/// [`SPLIT_ALICE`], as her server first describes her.
async fn split_domain_alice(
    conn: &mut diesel_async::AsyncPgConnection,
) -> cenacle_db::actors::PersonActor {
    cenacle_db::actors::upsert_remote_person(conn, &split_domain_person(SPLIT_ALICE, "alice"))
        .await
        .unwrap()
}

/// A person of a split-domain server (actor at `social.masto.example`), as fetched.
fn split_domain_person(ap_id: &str, username: &str) -> cenacle_db::actors::RemotePerson {
    cenacle_db::actors::RemotePerson {
        ap_id: ap_id.to_owned(),
        username: username.to_owned(),
        display_name: None,
        bio: None,
        avatar_url: None,
        inbox_url: format!("{ap_id}/inbox"),
        shared_inbox_url: None,
        public_key_pem: "key".to_owned(),
        instance_host: "social.masto.example".to_owned(),
    }
}

/// A 404 for `name@host` heard by a lookup that began at `asked_at`, as the lookups count them
/// (the second miss takes the handle from an hour after the first; a miss is forgotten after a
/// day; heard from the handle's host, not the actor's server).
async fn miss_at(
    conn: &mut diesel_async::AsyncPgConnection,
    name: &str,
    host: &str,
    asked_at: chrono::DateTime<Utc>,
) -> Result<cenacle_db::actors::HandleHostMiss, cenacle_db::DbError> {
    cenacle_db::actors::miss_handle_host(
        conn,
        name,
        host,
        Duration::hours(1),
        Duration::days(1),
        false,
        asked_at,
    )
    .await
}
