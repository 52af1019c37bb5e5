//! The delivery queue's own cost in a fan-out, on a throw-away PostgreSQL (the test harness's):
//! one activity queued to N hosts in one statement, then claimed 64 at a time (as the worker
//! claims, `delivery_concurrency` = 64, 8 per host) and each batch recorded delivered at once
//! (the rows go, the hosts are marked alive), until nothing is left. No HTTP and no signing:
//! this is what the database adds to a fan-out, apart from the sending. Not a test: record the
//! figures in docs/benchmarks.md with the machine. `scripts/bench-delivery-queue`
//!
//! `BENCH_DEAD_PERCENT` (default 0): that share of the hosts is dead before the fan-out, so
//! that the queuing parks their rows (and share-locks their instance rows, see
//! `federation::DEAD`): the cost of dead hosts on the hot path, beside the run without.
//!
//! With `DATABASE_URL`, it runs on that database instead (migrated first; it must be a
//! throw-away one): for instance a cluster with `pg_stat_statements` loaded, to see each
//! statement's share.

use cenacle_db::{connect_pool, federation, run_migrations, testing::fresh_database, DbError};
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::time::{Duration, Instant};

const CLAIM: i64 = 64;
const PER_HOST: i64 = 8;

#[tokio::main]
async fn main() {
    let hosts: usize = std::env::var("BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dead_percent: usize = std::env::var("BENCH_DEAD_PERCENT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let dead = hosts * dead_percent.min(100) / 100;
    let pool = match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let migrate = url.clone();
            tokio::task::spawn_blocking(move || run_migrations(&migrate).unwrap())
                .await
                .unwrap();
            connect_pool(&url, 2, Duration::from_secs(10)).unwrap()
        }
        Err(_) => fresh_database().await.pool,
    };
    let mut conn = pool.get().await.unwrap();
    // Hosts new to the database on every run, even on a database used before.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = format!("{{\"padding\":\"{}\"}}", "x".repeat(1500));
    for run in 1..=runs {
        let targets: Vec<(String, String)> = (0..hosts)
            .map(|i| {
                let host = format!("{stamp}r{run}h{i}.example");
                (format!("https://{host}/inbox"), host)
            })
            .collect();
        // Spread over the list (every 5th host for 20 %); above half, the first `dead` hosts.
        let dead_hosts: Vec<&str> = targets
            .iter()
            .map(|(_, h)| h.as_str())
            .step_by((hosts / dead.max(1)).max(1))
            .take(dead)
            .collect();
        diesel::sql_query(
            "INSERT INTO instance (host, dead, failing_since) \
             SELECT unnest($1::text[]), true, now() - interval '8 days'",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&dead_hosts)
        .execute(&mut conn)
        .await
        .unwrap();
        let start = Instant::now();
        federation::enqueue_activity(
            &mut conn,
            &format!("https://a.example/act/{stamp}/{run}"),
            "https://a.example/u/1",
            &body,
            &targets,
            None,
        )
        .await
        .unwrap();
        let queued = start.elapsed();
        let (mut claim_time, mut done_time, mut claims, mut sent) =
            (Duration::ZERO, Duration::ZERO, 0, 0);
        loop {
            let t = Instant::now();
            let claimed = conn
                .transaction::<_, DbError, _>(async move |c| {
                    federation::claim_deliveries(c, CLAIM, 30.0, PER_HOST).await
                })
                .await
                .unwrap();
            claim_time += t.elapsed();
            if claimed.is_empty() {
                break;
            }
            claims += 1;
            sent += claimed.len();
            let ids: Vec<i64> = claimed.iter().map(|d| d.id).collect();
            let alive: Vec<String> = claimed.iter().map(|d| d.host.clone()).collect();
            let t = Instant::now();
            conn.transaction::<_, DbError, _>(async move |c| {
                federation::finish_deliveries(c, &ids).await?;
                federation::record_instances_alive(c, &alive).await
            })
            .await
            .unwrap();
            done_time += t.elapsed();
        }
        assert_eq!(
            sent,
            hosts - dead,
            "every live host's delivery claimed once"
        );
        let total = start.elapsed();
        println!(
            "run {run}: {hosts} hosts ({dead} dead) in {:.2} s (queued {:.0} ms; {claims} claims, \
             {:.2} ms each; delivered batches {:.2} ms each)",
            total.as_secs_f64(),
            queued.as_secs_f64() * 1e3,
            claim_time.as_secs_f64() * 1e3 / (claims + 1) as f64,
            done_time.as_secs_f64() * 1e3 / claims.max(1) as f64,
        );
    }
}
