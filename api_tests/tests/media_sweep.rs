//! The orphan-upload sweep as a started `cenacle serve` runs it, on its configured beat and
//! grace (`media.sweep_interval_seconds`, `media.sweep_grace_seconds`): an upload nothing
//! refers to goes (row and file), as does a file of the media folder no upload names, while an
//! upload a post refers to is still served; then the server stops cleanly. Its logic is tested
//! in `crates/cenacle_api/tests/media_sweep.rs`; this is its wiring.

use cenacle_api_tests::{browser::TINY_PNG, eventually, Hosts, Instance};
use serde_json::json;
use std::{
    cell::Cell,
    time::{Duration, Instant},
};

/// The sweep's beat here: a second (the first pass one beat after the start).
const PERIOD_SECONDS: u64 = 1;
/// How old an unreferenced upload or a row-less file must be: a few seconds (the local-testing
/// mode allows it), long enough to be told from no grace at all, and for the post to attach
/// its upload within it on a loaded machine.
const GRACE_SECONDS: u64 = 10;
/// How long the test waits for the sweep, grace and beats included, on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(90);

/// Uploads a tiny PNG as `token`'s: its id and file name.
async fn upload(alpha: &Instance, token: &str) -> (i64, String) {
    let response = alpha
        .http
        .post(alpha.url("/api/v1/media"))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(TINY_PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    let file = body["url"].as_str().unwrap().rsplit('/').next().unwrap();
    (body["id"].as_i64().unwrap(), file.to_owned())
}

/// The status of `GET /media/<file>`, as anyone asks it.
async fn served(alpha: &Instance, file: &str) -> u16 {
    let url = alpha.url(&format!("/media/{file}"));
    alpha.http.get(&url).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_server_sweeps_orphan_uploads_and_rowless_files_and_keeps_referenced_ones() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env(
        "CENACLE_MEDIA__SWEEP_INTERVAL_SECONDS",
        &PERIOD_SECONDS.to_string(),
    );
    alpha.set_env(
        "CENACLE_MEDIA__SWEEP_GRACE_SECONDS",
        &GRACE_SECONDS.to_string(),
    );
    alpha.start();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "photos", "Photos").await;
    let media = alpha.data_dir().join("media");

    // Attached to a post: kept. (Attached within the grace, as an author does.)
    let (attached, attached_file) = upload(&alpha, &admin).await;
    let (status, post) = alpha
        .post(
            "/api/v1/groups/photos/posts",
            Some(&admin),
            json!({"kind": "note", "title": "Le lac", "attachments": [attached]}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    // Previewed for a post never written: swept.
    // (Its clock starts before the upload: the upload's row is dated within the request.)
    let orphan_made = Instant::now();
    let (_, orphan_file) = upload(&alpha, &admin).await;
    assert_eq!(served(&alpha, &orphan_file).await, 200);
    // A file no upload names (a crash mid-upload): removed.
    let rowless = "0123456789abcdef0123456789abcdef.png";
    let rowless_made = Instant::now();
    std::fs::write(media.join(rowless), TINY_PNG).unwrap();

    // Both go, each no sooner than the configured grace after it was made: watched together,
    // so that either going early is seen.
    let orphan_gone = Cell::new(None);
    let rowless_gone = Cell::new(None);
    eventually(
        "the running server to sweep the unreferenced upload and the file no upload names",
        PATIENCE,
        || async {
            if orphan_gone.get().is_none()
                && !media.join(&orphan_file).exists()
                && served(&alpha, &orphan_file).await == 404
            {
                orphan_gone.set(Some(Instant::now()));
            }
            if rowless_gone.get().is_none() && !media.join(rowless).exists() {
                rowless_gone.set(Some(Instant::now()));
            }
            (orphan_gone.get().is_some() && rowless_gone.get().is_some()).then_some(())
        },
    )
    .await;
    let grace = Duration::from_secs(GRACE_SECONDS);
    for (what, made, gone) in [
        ("the upload", orphan_made, orphan_gone.get()),
        ("the row-less file", rowless_made, rowless_gone.get()),
    ] {
        let after = gone.unwrap() - made;
        assert!(
            after >= grace,
            "{what} went after {after:?}, within the grace"
        );
    }
    // The upload the post refers to went through the same passes and stays.
    assert!(media.join(&attached_file).exists());
    assert_eq!(served(&alpha, &attached_file).await, 200);
    let (status, shown) = alpha
        .get(&format!("/api/v1/posts/{}", post["post"]["id"]), None)
        .await;
    assert_eq!(status, 200, "{shown}");
    let shown_url = shown["attachments"][0]["url"].as_str().unwrap_or_default();
    assert!(shown_url.ends_with(&attached_file), "{shown}");

    // A clean stop, the sweeper's task included (`stop` waits for the process to exit).
    alpha.stop();
    let log = alpha.log();
    assert!(log.contains("orphan uploads swept"), "{log}");
    assert!(
        log.contains("media files without an upload row removed"),
        "{log}"
    );
    assert!(
        log.contains("bye"),
        "the server did not stop cleanly:\n{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}
