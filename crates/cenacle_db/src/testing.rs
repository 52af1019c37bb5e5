//! The test-database harness: one throw-away PostgreSQL cluster per test process, a migrated
//! template database, and a fresh database per test cloned from the template with
//! `CREATE DATABASE … TEMPLATE`, so tests run in parallel, isolated, and fast (a clone is a
//! file copy, not a replay of the migrations).
//!
//! The cluster lives in a temporary folder named after the test process; its postmaster gets
//! a fast-shutdown signal when the process exits (see `embedded`), and folders of dead test
//! processes are removed by the next run.

use crate::{
    embedded::{self, ClusterAccess, EmbeddedOptions},
    pool::{connect_pool, run_migrations},
    DbPool,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicU32, Ordering},
        OnceLock,
    },
    time::Duration,
};

const TEMPLATE: &str = "cenacle_template";
const DIR_PREFIX: &str = "cenacle-testpg-";

struct TestCluster {
    access: ClusterAccess,
    _dir: PathBuf,
}

static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A database of its own for one test, with every migration applied.
pub struct TestDatabase {
    pub url: String,
    pub pool: DbPool,
    pub name: String,
}

/// A fresh, migrated database on this process's test cluster (started on first use).
pub async fn fresh_database() -> TestDatabase {
    let cluster = cluster();
    let name = format!("test_{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let mut admin = AsyncPgConnection::establish(&cluster.access.database_url("postgres"))
        .await
        .expect("connect to the test cluster");
    // Two clones of one template at the same instant can collide on the template's lock
    // ("source database is being accessed by other users"); retry briefly.
    let mut attempts = 0;
    loop {
        let created = diesel::sql_query(format!("CREATE DATABASE \"{name}\" TEMPLATE {TEMPLATE}"))
            .execute(&mut admin)
            .await;
        match created {
            Ok(_) => break,
            Err(err) if attempts < 50 && err.to_string().contains("being accessed") => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempts)).await;
            }
            Err(err) => panic!("create test database {name}: {err}"),
        }
    }
    let url = cluster.access.database_url(&name);
    let pool = connect_pool(&url, 8, Duration::from_secs(10)).expect("test pool");
    TestDatabase { url, pool, name }
}

/// The URL of a new, empty (not migrated) database: for tests of the migrations themselves.
pub async fn empty_database() -> String {
    let cluster = cluster();
    let name = format!("empty_{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let mut admin = AsyncPgConnection::establish(&cluster.access.database_url("postgres"))
        .await
        .expect("connect to the test cluster");
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create empty database");
    cluster.access.database_url(&name)
}

fn cluster() -> &'static TestCluster {
    CLUSTER.get_or_init(|| {
        // Initialised on a plain thread: the caller may be inside any test's runtime, and the
        // migration runner blocks.
        std::thread::spawn(start_cluster)
            .join()
            .expect("test cluster start panicked")
    })
}

fn start_cluster() -> TestCluster {
    remove_leftovers();
    let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test cluster folder");
    let opts = EmbeddedOptions {
        bin_dir: std::env::var_os("CENACLE_TEST_POSTGRES_BIN").map(PathBuf::from),
        unsafe_fast: true,
    };
    let access = embedded::open(&dir.join("postgres"), &opts, false)
        .unwrap_or_else(|e| panic!("start the test PostgreSQL cluster: {e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(embedded::ensure_database(&access, TEMPLATE))
        .expect("create template database");
    drop(runtime);
    run_migrations(&access.database_url(TEMPLATE)).expect("migrate template database");
    TestCluster { access, _dir: dir }
}

/// Folders of earlier test processes that are gone (their postmaster stopped with them).
fn remove_leftovers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Rows of `table` this transaction has read so far, from PostgreSQL's own per-transaction
/// counters: rows read by sequential scans and fetched by bitmap scans (the table's counters),
/// plus the entries read through each of its indexes (counted on the index, not the table).
/// What a test asserts to show a statement reads by key, not a whole history: a count of rows
/// does not depend on the machine's speed, as a timing would.
pub async fn rows_read(
    conn: &mut AsyncPgConnection,
    table: &str,
) -> Result<i64, diesel::result::Error> {
    use diesel::{sql_types::BigInt, sql_types::Text, QueryableByName};
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Ok(diesel::sql_query(
        "SELECT pg_stat_get_xact_tuples_returned($1::regclass) \
              + pg_stat_get_xact_tuples_fetched($1::regclass) \
              + (SELECT COALESCE(sum(pg_stat_get_xact_tuples_returned(indexrelid)), 0) \
                 FROM pg_index WHERE indrelid = $1::regclass)::bigint AS n",
    )
    .bind::<Text, _>(table)
    .get_result::<Read>(conn)
    .await?
    .n)
}
