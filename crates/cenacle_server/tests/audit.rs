//! `cenacle admin audit`, the real binary against a real database: silent success on honest
//! books, a non-zero exit naming the person when a balance no longer equals its ledger.

use cenacle_config::Settings;
use cenacle_core::{
    accounts::{self, PreparedAccount, Session},
    model::Account,
    points, Context, ScopedFutureExt,
};
use cenacle_db::testing::fresh_database;
use cenacle_domain::Role;
use diesel_async::RunQueryDsl;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cenacle");

/// `cenacle admin audit` on the database at `url`, nothing from the calling shell leaking in.
fn audit(url: &str, data_dir: &std::path::Path) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("CENACLE_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(["admin", "audit"])
        .env("CENACLE_DATABASE__URL", url)
        .output()
        .unwrap()
}

async fn account(ctx: &Context, name: &str, role: Role) -> Account {
    let prepared =
        PreparedAccount::prepare(&ctx.settings, name, "correct horse battery", None, role)
            .await
            .unwrap();
    ctx.transaction(|conn| {
        async move { accounts::create_account(conn, &prepared).await }.scope_boxed()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_audit_passes_on_honest_books_and_names_a_corrupted_balance() {
    let db = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::new(db.pool.clone(), Settings::defaults());
    let admin = Session {
        account: account(&ctx, "root", Role::Admin).await,
        token_id: 0,
    };
    let marie = account(&ctx, "marie", Role::Member).await.person_id;
    let admin = &admin;
    ctx.transaction(|conn| {
        async move { points::grant_points(conn, admin, marie, 40, "Merci", None).await }
            .scope_boxed()
    })
    .await
    .unwrap();

    let honest = audit(&db.url, dir.path());
    let stdout = String::from_utf8_lossy(&honest.stdout);
    assert!(
        honest.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&honest.stderr)
    );
    assert!(stdout.contains("equals its ledger"), "{stdout}");

    // Someone edits a balance behind the ledger's back.
    let mut conn = db.pool.get().await.unwrap();
    diesel::sql_query("UPDATE points_balance SET balance = balance + 7 WHERE person_id = $1")
        .bind::<diesel::sql_types::BigInt, _>(marie)
        .execute(&mut conn)
        .await
        .unwrap();
    let corrupted = audit(&db.url, dir.path());
    let stdout = String::from_utf8_lossy(&corrupted.stdout);
    assert!(!corrupted.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "marie (person {marie}): points_balance is 47, its ledger says 40"
        )),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&corrupted.stderr).contains("differ from their ledger"),
        "{}",
        String::from_utf8_lossy(&corrupted.stderr)
    );
}
