//! The sweep of orphan uploads: an upload nothing refers to goes (row and file) once older
//! than the grace period; a younger one, and one that anything refers to — a post's
//! attachment, a post's or comment's text, a reward's image, a course's cover, a lesson's
//! text, the welcome message, the champions' charter, an avatar or a banner — stays. Rows
//! another transaction holds are skipped, not waited for.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_core::{
    media_sweep::{self, MediaSwept},
    ScopedFutureExt,
};
use cenacle_domain::Role;
use common::TestApp;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::json;
use std::path::PathBuf;

struct Fixture {
    t: TestApp,
    /// Where the instance stores its uploads (kept alive with the fixture).
    _data: tempfile::TempDir,
    media: PathBuf,
    /// A community manager: may post, run the shop and write courses.
    manager: String,
}

async fn fixture() -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let t = TestApp::with(move |s| s.server.data_dir = dir).await;
    let manager = t.with_role("manager", Role::CommunityManager).await;
    let group = t
        .post(
            "/api/v1/groups",
            Some(&manager),
            json!({"name": "open", "title": "Open", "visibility": "public"}),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.json);
    Fixture {
        media: data.path().join("media"),
        _data: data,
        t,
        manager,
    }
}

/// An upload of `token`'s: its id and file name.
async fn upload(t: &TestApp, token: &str) -> (i64, String) {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.resize(64, 0);
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/media")
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(axum::http::header::CONTENT_TYPE, "image/png")
        .body(axum::body::Body::from(png))
        .unwrap();
    let r = t.send(request).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let url = r.json["url"].as_str().unwrap();
    let file = url.rsplit('/').next().unwrap().to_owned();
    (r.json["id"].as_i64().unwrap(), file)
}

/// An upload of `token`'s, made longer ago than the grace period.
async fn old_upload(t: &TestApp, token: &str) -> (i64, String) {
    let (id, file) = upload(t, token).await;
    t.sql(&format!(
        "UPDATE media SET created_at = now() - interval '25 hours' WHERE id = {id}"
    ))
    .await;
    (id, file)
}

/// `n` uploads of a day ago by `token` that nothing refers to: their ids.
async fn old_uploads(t: &TestApp, token: &str, n: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(old_upload(t, token).await.0);
    }
    ids
}

/// One pass of the sweep, `batch` uploads per transaction, as the server runs it.
async fn sweep_in(t: &TestApp, batch: i64) -> MediaSwept {
    sweep_until(t, batch, || false).await
}

/// The same, asking `stopped()` before each batch as the server does.
async fn sweep_until(t: &TestApp, batch: i64, stopped: impl Fn() -> bool) -> MediaSwept {
    let uploaded_before = chrono::Utc::now() - media_sweep::grace(&t.ctx);
    media_sweep::sweep_orphan_uploads(&t.ctx, batch, stopped, |batch| {
        t.ctx.transaction(move |conn| {
            media_sweep::forget_orphan_uploads(conn, uploaded_before, batch).scope_boxed()
        })
    })
    .await
    .unwrap()
}

async fn sweep(t: &TestApp) -> MediaSwept {
    sweep_in(t, media_sweep::BATCH).await
}

impl Fixture {
    /// Whether the upload is still there: its row, and its file on disk (never one without
    /// the other).
    async fn kept(&self, id: i64) -> bool {
        let mut conn = self.t.db.pool.get().await.unwrap();
        let rows = cenacle_db::media::media_by_ids(&mut conn, &[id])
            .await
            .unwrap();
        rows.iter().any(|m| self.on_disk(&m.file_name))
    }

    fn on_disk(&self, file: &str) -> bool {
        self.media.join(file).exists()
    }

    /// Writes `name` in the media folder (unless it is there) and dates it `when`.
    fn written_at(&self, name: &str, when: std::time::SystemTime) {
        let path = self.media.join(name);
        if !path.exists() {
            std::fs::write(&path, b"x").unwrap();
        }
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(when).unwrap();
    }
}

#[tokio::test]
async fn an_old_upload_nothing_refers_to_goes_with_its_file_and_a_young_one_stays() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (old, old_file) = old_upload(t, &marie).await;
    let (young, _) = upload(t, &marie).await;
    // A file already gone from the disk is no reason to keep its row.
    let (lost, lost_file) = old_upload(t, &marie).await;
    std::fs::remove_file(f.media.join(&lost_file)).unwrap();
    assert!(f.kept(old).await && f.kept(young).await);

    let swept = sweep(t).await;

    assert_eq!(
        swept,
        MediaSwept {
            forgotten: 2,
            files_kept: 0
        }
    );
    assert!(!f.kept(old).await);
    assert!(!f.on_disk(&old_file), "the old upload's file is removed");
    assert_eq!(
        t.count(&format!(
            "SELECT count(*) AS n FROM media WHERE id IN ({old}, {lost})"
        ))
        .await,
        0
    );
    assert!(f.kept(young).await, "an author may still be writing");
    // Nothing left to sweep.
    assert_eq!(sweep(t).await, MediaSwept::default());
}

#[tokio::test]
async fn an_old_upload_anything_refers_to_stays() {
    let f = fixture().await;
    let t = &f.t;
    let cm = &f.manager;
    let mut kept = vec![];

    // Attached to a post.
    let (attached, _) = old_upload(t, cm).await;
    let post = t
        .post(
            "/api/v1/groups/open/posts",
            Some(cm),
            json!({"kind": "note", "title": "Photo", "attachments": [attached]}),
        )
        .await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.json);
    kept.push(("post attachment", attached));

    // Written into a post's text, and into a comment's (media_embed, kept by triggers).
    let (in_post, file) = old_upload(t, cm).await;
    let post = t
        .post(
            "/api/v1/groups/open/posts",
            Some(cm),
            json!({"kind": "note", "title": "Plan", "body": format!("Voici : ![plan](/media/{file})")}),
        )
        .await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.json);
    kept.push(("image in a post's text", in_post));
    let (in_comment, file) = old_upload(t, cm).await;
    let comment = t
        .post(
            &format!("/api/v1/posts/{}/comments", post.json["post"]["id"]),
            Some(cm),
            json!({"body": format!("![détail](http://localhost:8700/media/{file})")}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.json);
    kept.push(("image in a comment's text", in_comment));

    // A reward's image.
    let (reward_image, _) = old_upload(t, cm).await;
    let reward = t
        .post(
            "/api/v1/shop/rewards",
            Some(cm),
            json!({"name_en": "Mug", "name_fr": "Tasse", "kind": "physical", "price": 100,
                   "image_media_id": reward_image}),
        )
        .await;
    assert_eq!(reward.status, StatusCode::CREATED, "{}", reward.json);
    kept.push(("reward image", reward_image));

    // A course's cover, and an image in one of its lessons.
    let (cover, _) = old_upload(t, cm).await;
    let (in_lesson, file) = old_upload(t, cm).await;
    let course = t
        .post(
            "/api/v1/courses",
            Some(cm),
            json!({"title_fr": "Bases", "title_en": "Basics", "cover_media_id": cover,
                   "group_name": "basics",
                   "lessons": [{"position": 1, "title_fr": "Un", "title_en": "One",
                                "body_fr": format!("![schéma](/media/{file})"),
                                "body_en": format!("![diagram](/media/{file})"), "minutes": 5}]}),
        )
        .await;
    assert_eq!(course.status, StatusCode::CREATED, "{}", course.json);
    kept.push(("course cover", cover));
    kept.push(("image in a lesson's text", in_lesson));

    // URLs written where no trigger follows them.
    let (in_welcome, file) = old_upload(t, cm).await;
    t.sql(&format!(
        "UPDATE onboarding_settings SET welcome_en = 'Hello ![us](/media/{file})'"
    ))
    .await;
    kept.push(("image in the welcome message", in_welcome));
    let (in_charter, file) = old_upload(t, cm).await;
    t.sql(&format!(
        "INSERT INTO champion_charter (version, text_en, text_fr) \
         VALUES (1, 'Be kind', 'Soyez bienveillants ![](/media/{file})')"
    ))
    .await;
    kept.push(("image in the champions' charter", in_charter));
    let (avatar, file) = old_upload(t, cm).await;
    let profile = t
        .request(
            Method::PATCH,
            "/api/v1/account/me",
            Some(cm),
            Some(json!({"avatar_url": format!("http://localhost:8700/media/{file}")})),
        )
        .await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.json);
    kept.push(("person avatar", avatar));
    let (banner, file) = old_upload(t, cm).await;
    t.sql(&format!(
        "UPDATE community_group SET banner_url = 'http://localhost:8700/media/{file}' \
         WHERE name = 'open'"
    ))
    .await;
    kept.push(("group banner", banner));

    // The control: swept in the same pass.
    let (orphan, _) = old_upload(t, cm).await;

    let swept = sweep(t).await;

    assert_eq!(swept.forgotten, 1, "only the orphan goes");
    assert!(!f.kept(orphan).await);
    for (reference, id) in kept {
        assert!(f.kept(id).await, "an upload used as {reference} was swept");
    }
}

/// A stop asked for mid-pass ends it between two batches of uploads, and between two chunks
/// of files without a row: a server stopping did not wait for a pass over a long backlog
/// (tens of thousands of files at a chunk of 5,000 lookups each). What is left goes next pass.
#[tokio::test]
async fn a_stop_ends_a_pass_between_two_batches_and_between_two_chunks_of_files() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let orphans = old_uploads(t, &marie, 5).await;
    // The stop comes while the first batch is swept: asked before each batch, it is seen
    // before the second.
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let stop_after_one = || asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1;

    let swept = sweep_until(t, 2, stop_after_one).await;

    assert_eq!(swept.forgotten, 2, "one batch, then the stop");
    let mut kept = 0;
    for id in &orphans {
        kept += usize::from(f.kept(*id).await);
    }
    assert_eq!(kept, 3, "the rest left for the next pass");
    assert_eq!(
        sweep_in(t, 2).await.forgotten,
        3,
        "and the next pass takes it"
    );

    let now = std::time::SystemTime::now();
    let long_ago = now - std::time::Duration::from_secs(25 * 3600);
    let strays: Vec<String> = (1..=4).map(|n| format!("{n:032x}.png")).collect();
    for stray in &strays {
        f.written_at(stray, long_ago);
    }
    // The folder is judged by the old uploads it records (those above are swept): one more,
    // its file left young so that the only old files are the strays.
    old_upload(t, &marie).await;
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let stop_after_one = || asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1;
    let mut conn = t.ctx.conn().await.unwrap();
    let removed = media_sweep::remove_rowless_files(&mut conn, &t.ctx, now, 1, stop_after_one)
        .await
        .unwrap();
    assert_eq!(removed, 1, "one chunk of one file, then the stop");
    let left = strays.iter().filter(|stray| f.on_disk(stray)).count();
    assert_eq!(left, 3);
}

#[tokio::test]
async fn the_sweep_goes_batch_by_batch_until_none_is_left() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let orphans = old_uploads(t, &marie, 5).await;

    let swept = sweep_in(t, 2).await;

    assert_eq!(swept.forgotten, 5);
    for id in orphans {
        assert!(!f.kept(id).await);
    }
}

#[tokio::test]
async fn an_upload_another_transaction_holds_is_skipped_not_waited_for() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (held, _) = old_upload(t, &marie).await;
    let (free, _) = old_upload(t, &marie).await;

    // A transaction attaching the upload holds its row (a foreign key's check locks it so)
    // while another server sweeps.
    let mut conn = t.db.pool.get().await.unwrap();
    let swept = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::sql_query(format!(
                "SELECT id FROM media WHERE id = {held} FOR KEY SHARE"
            ))
            .execute(conn)
            .await?;
            // A sweep that waited for the lock would wait for this very transaction forever.
            let bounded = tokio::time::timeout(std::time::Duration::from_secs(30), sweep(t));
            Ok(bounded.await.expect("the sweep waited for a held row"))
        })
        .await
        .unwrap();

    assert_eq!(swept.forgotten, 1);
    assert!(f.kept(held).await);
    assert!(!f.kept(free).await);
    // Released, it is swept on the next pass.
    assert_eq!(sweep(t).await.forgotten, 1);
    assert!(!f.kept(held).await);
}

/// The welcome message a community manager saves naming the upload `file` (in its French
/// text: no trigger records what it names).
fn welcome_naming(file: &str) -> cenacle_core::welcome::WelcomeInput {
    cenacle_core::welcome::WelcomeInput {
        message_fr: format!("Bienvenue ![nous](/media/{file})"),
        message_en: "Welcome".into(),
        manager: None,
        group: None,
        post_in_group: false,
    }
}

/// An upload named by a text being saved where no trigger records it (here the welcome
/// message, through its use case): the sweep running meanwhile does not see the text (not
/// committed yet), so the save holds the upload and the sweep skips it; once the text is
/// committed, the next sweep reads it and keeps the upload. Before, that sweep forgot the
/// upload, and the committed welcome message showed a broken image.
#[tokio::test]
async fn an_upload_named_by_a_text_being_saved_is_not_swept_under_it() {
    let f = fixture().await;
    let t = &f.t;
    let cm = &f.manager;
    let (named, file) = old_upload(t, cm).await;

    let mut conn = t.db.pool.get().await.unwrap();
    let session = cenacle_core::accounts::authenticate(&mut conn, cm)
        .await
        .unwrap();
    let input = welcome_naming(&file);
    let (session, input) = (&session, &input);
    let swept_meanwhile = t
        .ctx
        .transaction(|conn| {
            async move {
                cenacle_core::welcome::set_welcome(conn, session, input).await?;
                // Another server's sweep, while the welcome message is not committed yet.
                Ok(
                    tokio::time::timeout(std::time::Duration::from_secs(30), sweep(t))
                        .await
                        .expect("the sweep waited for the text being saved"),
                )
            }
            .scope_boxed()
        })
        .await
        .unwrap();

    assert_eq!(
        swept_meanwhile.forgotten, 0,
        "the sweep forgot an upload named by a text being saved"
    );
    assert!(f.kept(named).await);
    // Committed, the text itself keeps it.
    assert_eq!(sweep(t).await.forgotten, 0);
    assert!(f.kept(named).await);
}

/// Sessions of this test's database waiting on a lock now.
async fn lock_waiters(t: &TestApp) -> i64 {
    t.count(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .await
}

/// The other order: the sweep locks an upload first, a text naming it is saved meanwhile
/// (its hold waits on the sweep's lock), and the sweep, which cannot see the uncommitted text,
/// deletes the upload and commits. The save is refused (`media`, `media_gone`) and nothing is
/// saved. Before, the hold skipped the deleted row in silence and the welcome message was
/// committed naming a file that no longer exists. A name that never was an upload here is not
/// refused.
#[tokio::test]
async fn a_text_naming_an_upload_the_sweep_deletes_under_its_hold_is_refused() {
    let f = fixture().await;
    let t = &f.t;
    let cm = &f.manager;
    let (named, file) = old_upload(t, cm).await;

    let mut conn = t.db.pool.get().await.unwrap();
    let session = cenacle_core::accounts::authenticate(&mut conn, cm)
        .await
        .unwrap();
    drop(conn);
    let input = welcome_naming(&file);
    let (session, input) = (&session, &input);
    let locked = tokio::sync::Notify::new();
    let saved_done = std::sync::atomic::AtomicBool::new(false);
    let mut sweeper = t.db.pool.get().await.unwrap();

    // The sweep's transaction: its locking statement run by hand on the upload, then (the
    // saver seen waiting on it) the sweep itself, which deletes what it finds unreferenced.
    let sweeping = sweeper.transaction::<_, diesel::result::Error, _>(async |conn| {
        diesel::sql_query(format!(
            "SELECT id FROM media WHERE id = {named} FOR UPDATE SKIP LOCKED"
        ))
        .execute(conn)
        .await?;
        locked.notify_one();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while lock_waiters(t).await < 1 {
            assert!(
                !std::sync::atomic::AtomicBool::load(
                    &saved_done,
                    std::sync::atomic::Ordering::SeqCst
                ),
                "the save did not wait for the sweep's lock"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "the save never waited"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let uploaded_before = chrono::Utc::now() - media_sweep::grace(&t.ctx);
        Ok(
            cenacle_db::media::delete_orphan_media(conn, uploaded_before, media_sweep::BATCH)
                .await
                .unwrap(),
        )
    });
    let saving = async {
        locked.notified().await;
        let saved = t
            .ctx
            .transaction(|conn| {
                async move { cenacle_core::welcome::set_welcome(conn, session, input).await }
                    .scope_boxed()
            })
            .await;
        saved_done.store(true, std::sync::atomic::Ordering::SeqCst);
        saved
    };
    let (swept, saved) = tokio::join!(sweeping, saving);

    assert_eq!(swept.unwrap(), vec![file.clone()], "the sweep deleted it");
    let error = saved.expect_err("a welcome message naming a deleted upload was saved");
    assert!(
        matches!(
            error,
            cenacle_core::CoreError::Validation(cenacle_domain::ValidationError {
                field: "media",
                code: "media_gone"
            })
        ),
        "{error:?}"
    );
    let answer = cenacle_api::error::ApiError::from(error);
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.code, "validation_failed");
    assert_eq!(
        answer.details,
        Some(json!({"field": "media", "reason": "media_gone"}))
    );
    assert_eq!(
        t.count_with(
            "SELECT count(*) AS n FROM onboarding_settings WHERE welcome_fr LIKE $1",
            &[&format!("%{file}%")],
        )
        .await,
        0,
        "nothing of the refused save was kept"
    );

    // A name no upload ever had (a typo, a file of another server's) is not refused.
    let input = cenacle_core::welcome::WelcomeInput {
        message_fr: format!(
            "Bienvenue ![nous](/media/{file}) ![eux](https://ailleurs.example/media/x.png)"
        ),
        ..input.clone()
    };
    let input = &input;
    t.ctx
        .transaction(|conn| {
            async move { cenacle_core::welcome::set_welcome(conn, session, input).await }
                .scope_boxed()
        })
        .await
        .expect("names that were never uploads here are not refused");
}

/// An upload of someone else's pasted into a post (which `media_embed`, recording the
/// writer's own uploads only, does not see) stays; one older than the sweep's window is never
/// swept (once attached and replaced, it may still be shown by servers that link to it).
#[tokio::test]
async fn an_upload_pasted_by_another_member_stays_and_old_ones_are_left_alone() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (pasted, pasted_file) = old_upload(t, &marie).await;
    let (orphan, _) = old_upload(t, &marie).await;
    let (ancient, _) = upload(t, &marie).await;
    t.sql(&format!(
        "UPDATE media SET created_at = now() - interval '{} days' WHERE id = {ancient}",
        cenacle_db::media::SWEEP_WINDOW_DAYS + 1
    ))
    .await;
    let body = format!("Voyez ![ceci](/media/{pasted_file})");
    let post = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&f.manager),
            json!({"kind": "note", "title": "Repris", "body": body}),
        )
        .await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.json);
    assert_eq!(sweep(t).await.forgotten, 1);
    assert!(f.kept(pasted).await, "shown in another member's post");
    assert!(f.kept(ancient).await, "older than the window");
    assert!(!f.kept(orphan).await);
}

/// A file of the media directory that no upload row names (an upload whose record was refused
/// or never made, a crash's `.part` temporary) goes once older than the grace period; a
/// younger one, an old one whose upload is recorded, and one whose name is not an upload's,
/// stay. Such files used to stay for ever, taking disk space nothing would serve or free.
/// However many there are: members make them (an upload refused after its file is written),
/// and must not be able to stop the sweep by outnumbering the uploads.
#[tokio::test]
async fn files_without_an_upload_row_go_once_old_and_recorded_ones_stay() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (recorded, recorded_file) = old_upload(t, &marie).await;
    let now = std::time::SystemTime::now();
    let long_ago = now - std::time::Duration::from_secs(25 * 3600);
    let stray = "0123456789abcdef0123456789abcdef.png";
    let half = ".fedcba9876543210fedcba9876543210.mp4.part";
    let fresh = "00000000000000000000000000000000.png";
    f.written_at(stray, long_ago);
    f.written_at(half, long_ago);
    f.written_at(fresh, now);
    f.written_at("notes.txt", long_ago);
    f.written_at(&recorded_file, long_ago);
    let many: Vec<String> = (1..=30).map(|n| format!("{n:032x}.png")).collect();
    for stray in &many {
        f.written_at(stray, long_ago);
    }

    // A chunk of one file: each looked up on its own.
    let mut conn = t.ctx.conn().await.unwrap();
    let removed = media_sweep::remove_rowless_files(&mut conn, &t.ctx, now, 1, || false)
        .await
        .unwrap();

    assert_eq!(removed, 32);
    assert!(!f.on_disk(stray) && !f.on_disk(half));
    assert!(many.iter().all(|stray| !f.on_disk(stray)));
    assert!(f.on_disk(fresh), "its upload may be being recorded");
    assert!(
        f.on_disk("notes.txt"),
        "not an upload's: not ours to remove"
    );
    assert!(f.kept(recorded).await, "a recorded upload's file stays");
}

/// A media folder that is not the database's (a wrong database, or a dump not loaded yet:
/// the uploads it records are not in the folder) loses nothing: the pass stops with an error
/// instead of removing every file the database does not name.
#[tokio::test]
async fn a_folder_the_database_does_not_know_loses_nothing() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (_, elsewhere) = old_upload(t, &marie).await;
    std::fs::remove_file(f.media.join(&elsewhere)).unwrap();
    let now = std::time::SystemTime::now();
    let long_ago = now - std::time::Duration::from_secs(25 * 3600);
    let strays: Vec<String> = (1..=3).map(|n| format!("{n:032x}.png")).collect();
    for stray in &strays {
        f.written_at(stray, long_ago);
    }

    let mut conn = t.ctx.conn().await.unwrap();
    let chunk = media_sweep::FILES_CHUNK;
    let refused = media_sweep::remove_rowless_files(&mut conn, &t.ctx, now, chunk, || false).await;

    let error = refused.expect_err("not this database's folder").to_string();
    assert!(
        error.contains("files without an upload row are left"),
        "{error}"
    );
    assert!(strays.iter().all(|stray| f.on_disk(stray)));
}
