//! `cenacle serve` and `cenacle deliver`.

use crate::{
    database::Database,
    mailer::Mailer,
    periodic::{log_failure, run_logged, spawn_every, FirstRun},
};
use cenacle_api::{router, with_layers, AppState};
use cenacle_apub::{delivery::DeliveryWorker, Federation};
use cenacle_config::Settings;
use cenacle_core::{
    admin, auctions, bounties, certificates, digests, getting_started, insights, media_sweep,
    notification_mails, notifications, orders, ranks_reached, Context, ScopedFutureExt,
};
use std::{net::SocketAddr, time::Duration};
use tokio::{
    signal::unix::{signal, SignalKind},
    sync::watch,
};

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let db = Database::open(&settings, false).await?;
    let ctx = Context::new(db.pool.clone(), settings.clone());
    // Only PostgreSQL knows which time-zone names exist (the configuration was read before
    // it was reached): a default it does not know stops the start, naming the key.
    let zone_checked = match ctx.conn().await {
        Ok(mut conn) => digests::check_default_time_zone(&mut conn, &ctx).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(why) = zone_checked {
        db.close().await?;
        anyhow::bail!(why);
    }
    let federation = Federation::start(ctx.clone()).await?;

    let setup_token = ctx
        .transaction(|conn| admin::issue_setup_token_if_needed(conn).scope_boxed())
        .await?;
    if let Some(token) = setup_token {
        // Printed for the operator, never logged: whoever holds it can become admin.
        println!("No admin exists yet. Create the first one with this one-time setup token:");
        println!("setup token: {token}");
        println!(
            "  curl -X POST {}/api/v1/setup -H 'Content-Type: application/json' \\\n    -d '{{\"setup_token\":\"{token}\",\"username\":\"admin\",\"password\":\"…\"}}'",
            settings.public_base()
        );
        println!("or run: cenacle admin create-user --username admin --role admin");
    }

    // The built-in getting-started course, written at the instance's first start only (see
    // `getting_started`). A failure is logged, not fatal: the next start tries again.
    match ensure_getting_started(&ctx).await {
        Ok(Some(id)) => tracing::info!(course = id, "wrote the getting-started course"),
        Ok(None) => {}
        Err(err) => tracing::error!(error = %err, "writing the getting-started course failed"),
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mailer = start_mailer(&ctx, &db, &stop_rx)?;
    let worker = settings.federation.run_delivery_workers.then(|| {
        let worker = DeliveryWorker::new(federation.clone(), db.url.clone());
        tokio::spawn(worker.run(stop_rx.clone()))
    });

    // Bounties that ran out are settled every minute (safe with several servers: rows are
    // claimed with SKIP LOCKED and paid once per key); on the same beat, members who reached
    // a higher rank are told (their marks claimed with SKIP LOCKED too).
    let settler = spawn_every(
        Duration::from_secs(60),
        FirstRun::AtOnce,
        stop_rx.clone(),
        ctx.clone(),
        |ctx| async move {
            run_logged(&ctx, "settling bounties", |conn| {
                bounties::settle_expired_bounties(conn).scope_boxed()
            })
            .await;
            log_failure("telling ranks reached", tell_ranks_reached(&ctx).await);
        },
    );

    // Auctions that ended are settled (winner charged, order created, holds released) and
    // delivery addresses past their retention erased, as bounties are (SKIP LOCKED claims).
    let auction_settler = spawn_every(
        Duration::from_secs(settings.shop.settle_interval_seconds),
        FirstRun::AtOnce,
        stop_rx.clone(),
        ctx.clone(),
        |ctx| async move {
            // One auction per transaction (see settle_ended_auctions), at most a hundred a
            // tick.
            for _ in 0..100 {
                let settled = ctx
                    .transaction(|conn| auctions::settle_ended_auctions(conn).scope_boxed())
                    .await;
                match settled {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(err) => {
                        tracing::error!(error = %err, "settling auctions failed");
                        break;
                    }
                }
            }
            run_logged(&ctx, "erasing delivery addresses", |conn| {
                orders::erase_expired_addresses(conn).scope_boxed()
            })
            .await;
        },
    );

    // Expired certificates give back the badge they awarded and the group membership they
    // unlocked, on their own beat: one certificate per transaction (claimed with SKIP LOCKED,
    // so several servers may sweep side by side), so that one that fails is logged and left
    // for the next beat without holding back the others.
    let certificate_sweeper = spawn_every(
        Duration::from_secs(settings.training.expiry_interval_seconds),
        FirstRun::AtOnce,
        stop_rx.clone(),
        ctx.clone(),
        |ctx| async move { sweep_certificates(&ctx, chrono::Utc::now()).await },
    );

    // Our members' bans from groups elsewhere that ran out: their Follow is sent again, as
    // when a ban is lifted (no `Undo{Block}` comes when one runs out, and the group's server
    // dropped their follow with the ban). A batch per transaction, claimed with SKIP LOCKED
    // and marked handled, so that several servers may run this side by side.
    let bans_run_out = spawn_every(
        Duration::from_secs(settings.federation.bans_run_out_interval_seconds),
        FirstRun::AtOnce,
        stop_rx.clone(),
        federation.clone(),
        |federation| async move {
            log_failure(
                "following again after bans ran out",
                cenacle_apub::follows::follow_again_after_bans_ran_out(&federation).await,
            );
        },
    );

    // Askers are reminded to accept an answer (once per question: a unique index, so several
    // servers may run this side by side); the triggered onboarding e-mails go out on the same beat.
    let reminder = spawn_every(
        Duration::from_secs(settings.notifications.reminder_interval_seconds),
        FirstRun::AtOnce,
        stop_rx.clone(),
        ctx.clone(),
        |ctx| async move {
            run_logged(&ctx, "sending accept reminders", |conn| {
                notifications::send_due_accept_reminders(conn, &ctx).scope_boxed()
            })
            .await;
            // The onboarding journey's triggered e-mails, on the same beat (each member once
            // per rule: a unique row, so servers may run side by side).
            run_logged(&ctx, "sending triggered onboarding mails", |conn| {
                cenacle_core::triggered_mail::run_rules(conn, &ctx, chrono::Utc::now())
                    .scope_boxed()
            })
            .await;
        },
    );

    // Daily and weekly digests, at each member's local hour (a period is claimed under a row
    // lock, so several servers may run this side by side); with mail off, the marks that would
    // have mailed notifications are cleared instead (see `forget_mail_marks`).
    let mail_enabled = settings.email.enabled;
    let digests = spawn_every(
        Duration::from_secs(settings.email.digest_interval_seconds),
        FirstRun::AtOnce,
        stop_rx.clone(),
        ctx.clone(),
        move |ctx| async move {
            if mail_enabled {
                run_logged(&ctx, "sending digests", |conn| {
                    digests::send_digests_now(conn, &ctx).scope_boxed()
                })
                .await;
            } else {
                forget_mail_marks(&ctx).await;
            }
        },
    );

    // Uploads nothing refers to (previewed for a post or lesson never written) go, with their
    // files, once older than `media.sweep_grace_seconds` (a day): a batch per transaction,
    // claimed with SKIP LOCKED, so several servers may sweep side by side. The first pass
    // comes one period (`media.sweep_interval_seconds`, an hour) after start, not at it: the
    // sweep reads every recent text, and a rolling restart of several servers would otherwise
    // run it once per server.
    let media_sweeper = spawn_every(
        settings.media.sweep_interval(),
        FirstRun::AfterOnePeriod,
        stop_rx.clone(),
        (ctx.clone(), stop_rx.clone()),
        |(ctx, stop)| async move { sweep_orphan_media(&ctx, &stop).await },
    );

    // The statistics changes that actions append are folded into the day rows every few
    // seconds (batches claimed with SKIP LOCKED: several servers may fold side by side). A
    // fold goes batch after batch until it has caught up, so it watches the stop itself.
    let statistics_folder = spawn_every(
        STATISTICS_FOLD_EVERY,
        FirstRun::AtOnce,
        stop_rx.clone(),
        (ctx.clone(), stop_rx.clone()),
        |(ctx, stop)| async move { fold_statistics(&ctx, &stop).await },
    );

    // The champions shortlists managers asked for within 30 days are recomputed once half
    // `insights.shortlist_refresh_seconds` old, so that requests read a stored one (see
    // `insights::shortlist`): one topic per transaction, claimed with SKIP LOCKED, so several
    // servers refresh side by side and none a topic another has just done.
    let shortlist_refresher = spawn_every(
        settings.insights.shortlist_refresh_beat(),
        FirstRun::AtOnce,
        stop_rx.clone(),
        (ctx.clone(), stop_rx.clone()),
        |(ctx, stop)| async move { refresh_shortlists(&ctx, &stop).await },
    );

    let state = AppState::new(ctx, federation.clone());
    let metrics = serve_metrics(&settings, state.clone(), stop_rx.clone()).await?;
    let app = app(state, &federation);
    let listener = tokio::net::TcpListener::bind(settings.server.bind).await?;
    let addr = listener.local_addr()?;
    // Before the line below: whoever read it may stop us at once (see `StopSignals`).
    let stop_signals = StopSignals::install();
    tracing::info!(%addr, public_url = %settings.server.public_url, "listening");
    // A stable line on stdout for scripts and tests that start the server on port 0.
    println!("listening on http://{addr}");

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_signals.received())
    .await?;
    tracing::info!("HTTP server stopped");
    let _ = stop_tx.send(true);
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    let _ = settler.await;
    let _ = auction_settler.await;
    let _ = certificate_sweeper.await;
    let _ = bans_run_out.await;
    let _ = media_sweeper.await;
    let _ = statistics_folder.await;
    let _ = shortlist_refresher.await;
    if let Some(mailer) = mailer {
        let _ = mailer.await;
    }
    let _ = reminder.await;
    let _ = digests.await;
    db.close().await?;
    tracing::info!("bye");
    Ok(())
}

/// `/metrics` on its own listener (`metrics.bind`), until `stop` turns true. A taken port is
/// logged and the server runs on without metrics: a second instance on one machine (a demo,
/// a test) must not fail to serve its members over its monitoring port; any other failure to
/// listen there is a configuration error.
async fn serve_metrics(
    settings: &Settings,
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(bind) = settings.metrics.bind else {
        return Ok(None);
    };
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::error!(%bind, "metrics.bind: {bind} is in use; running without metrics (choose another address, or \"\" to turn them off)");
            return Ok(None);
        }
        Err(err) => {
            anyhow::bail!("configuration key `metrics.bind`: cannot listen on {bind}: {err}")
        }
    };
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "metrics served");
    println!("metrics on http://{addr}/metrics");
    let app = cenacle_api::metrics_router(state);
    Ok(Some(tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %err, "metrics listener failed");
        }
    })))
}

/// The whole HTTP application: the REST API, the federation endpoints (documents,
/// inboxes, WebFinger, NodeInfo) and the web pages, behind the same request ids, tracing, metrics and limits.
pub fn app(state: AppState, federation: &Federation) -> axum::Router {
    let api = router(state.clone());
    cenacle_web::with_html_errors(
        with_layers(
            api.merge(cenacle_apub::routes::router(federation.clone()))
                .merge(cenacle_web::router(state.clone())),
            &state,
        ),
        state,
    )
}

/// A delivery worker process on the shared database (scale-out: run as many as needed).
pub async fn deliver(settings: Settings) -> anyhow::Result<()> {
    let db = Database::open(&settings, true).await?;
    let ctx = Context::new(db.pool.clone(), settings);
    let federation = Federation::start(ctx.clone()).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mailer = start_mailer(&ctx, &db, &stop_rx)?;
    let worker = tokio::spawn(DeliveryWorker::new(federation, db.url.clone()).run(stop_rx));
    let stop_signals = StopSignals::install();
    println!("delivering");
    stop_signals.received().await;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    if let Some(mailer) = mailer {
        let _ = mailer.await;
    }
    db.close().await
}

/// The mail worker, when `email.enabled` (with the delivery workers: `federation.
/// run_delivery_workers` in `serve`, always in `deliver`).
fn start_mailer(
    ctx: &Context,
    db: &Database,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if !ctx.settings.email.enabled {
        return Ok(None);
    }
    let mailer = Mailer::new(ctx.clone(), db.url.clone())?;
    Ok(Some(tokio::spawn(mailer.run(stop.clone()))))
}

/// SIGTERM and SIGINT, caught from `install` on. Installed before the process says it is
/// ready ("listening on", "delivering"): whoever read that line may stop it at once, and a
/// signal that came before its handler would kill the process by its default action, with
/// nothing of the shutdown run (the handler used to be installed by the HTTP server's shutdown
/// task, after the line: a SIGTERM in between ended the server "by signal").
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> StopSignals {
        StopSignals {
            term: signal(SignalKind::terminate()).expect("SIGTERM handler"),
            int: signal(SignalKind::interrupt()).expect("SIGINT handler"),
        }
    }

    async fn received(mut self) {
        tokio::select! {
            _ = self.term.recv() => tracing::info!("SIGTERM received, shutting down"),
            _ = self.int.recv() => tracing::info!("SIGINT received, shutting down"),
        }
    }
}

/// Writes the built-in getting-started course if this instance never did (see
/// `cenacle_core::getting_started`): the check on one connection, the slow key pair with none
/// held, the writing in one transaction.
async fn ensure_getting_started(ctx: &Context) -> Result<Option<i64>, cenacle_core::CoreError> {
    let owed = {
        let mut conn = ctx.conn().await?;
        getting_started::getting_started_owed(&mut conn).await?
    };
    let Some(group_name) = owed else {
        return Ok(None);
    };
    let prepared = getting_started::prepare_getting_started(ctx, &group_name).await?;
    ctx.transaction(|conn| getting_started::write_getting_started(conn, &prepared).scope_boxed())
        .await
}

/// One pass of the certificate sweep (see `certificate_sweeper`): the listing on a plain
/// connection, each certificate in its own transaction.
async fn sweep_certificates(ctx: &Context, now: chrono::DateTime<chrono::Utc>) {
    let swept = certificates::sweep_expired_certificates(
        certificates::SWEEP_PAGE,
        |after, page| async move {
            let mut conn = ctx.conn().await?;
            certificates::expired_certificates(&mut conn, now, after, page).await
        },
        |id| {
            ctx.transaction(move |conn| {
                certificates::expire_certificate(conn, id, now).scope_boxed()
            })
        },
    )
    .await;
    if swept.taken_back > 0 || !swept.failed.is_empty() || swept.listing_failed {
        tracing::info!(
            taken_back = swept.taken_back,
            failed = swept.failed.len(),
            listing_failed = swept.listing_failed,
            "certificate sweep"
        );
    }
}

/// One run of the ranks-reached job: at most 500 marked people, each looked at in its own
/// transaction (see `ranks_reached::tell_ranks_reached`).
async fn tell_ranks_reached(ctx: &Context) -> Result<usize, cenacle_core::CoreError> {
    let due = ctx
        .transaction(|conn| ranks_reached::ranks_due(conn, 500).scope_boxed())
        .await?;
    ranks_reached::tell_ranks_reached(
        due,
        |person| {
            ctx.transaction(move |conn| {
                ranks_reached::tell_rank_reached(conn, ctx, person).scope_boxed()
            })
        },
        |person| {
            ctx.transaction(move |conn| ranks_reached::drop_rank_mark(conn, person).scope_boxed())
        },
    )
    .await
}

/// How often the appended statistics changes are folded: often enough that readers add up a
/// few thousand rows at most (each like or view appends one), rarely enough to cost nothing.
const STATISTICS_FOLD_EVERY: Duration = Duration::from_secs(5);
/// Changes folded per transaction: a fold's lock on the day rows lasts one batch.
const STATISTICS_FOLD_BATCH: i32 = 5_000;

/// Folds every statistics change appended so far, a batch per transaction, until a stop is
/// asked for; a failure is logged and left for the next beat (nothing is lost: the changes
/// stay appended, and readers count them meanwhile).
async fn fold_statistics(ctx: &Context, stop: &watch::Receiver<bool>) {
    while !*stop.borrow() {
        let folded = ctx
            .transaction(|conn| {
                insights::fold_statistics(conn, STATISTICS_FOLD_BATCH).scope_boxed()
            })
            .await;
        match folded {
            Ok(n) if n == i64::from(STATISTICS_FOLD_BATCH) => {}
            Ok(_) => return,
            Err(err) => {
                tracing::error!(error = %err, "folding the statistics failed");
                return;
            }
        }
    }
}

/// One pass of the shortlist refresh (see `shortlist_refresher`): the snapshots nobody asked
/// for lately go; then each one due, in its own transaction, its time logged (what a request
/// finding no fresh snapshot would have waited), until none is left or a stop is asked for.
/// A topic whose refresh fails is logged and passed over (core records the failure, and takes
/// it again after the others): one topic's bad data must not leave every other stale. A topic
/// a request is computing is left to it (its answer is stored), not taken again by the pass.
async fn refresh_shortlists(ctx: &Context, stop: &watch::Receiver<bool>) {
    run_logged(ctx, "forgetting shortlists nobody asks for", |conn| {
        insights::forget_unasked_shortlists(conn).scope_boxed()
    })
    .await;
    // Fixed for the pass, by the database's clock read once: what it refreshes is computed
    // after them, so the pass ends.
    let refresh_after = ctx.settings.insights.shortlist_refresh_after();
    let mut pass = match ctx
        .transaction(|conn| insights::shortlist_pass(conn, refresh_after).scope_boxed())
        .await
    {
        Ok(pass) => pass,
        Err(err) => {
            tracing::error!(error = %err, "starting a shortlist refresh failed");
            return;
        }
    };
    while !*stop.borrow() {
        let started = std::time::Instant::now();
        let refreshed = ctx
            .transaction(|conn| insights::refresh_due_shortlist(conn, &mut pass).scope_boxed())
            .await;
        match refreshed {
            Ok(Some(r)) => match r.outcome {
                insights::Refresh::Stored(entries) => tracing::info!(
                    tag = %r.tag,
                    group_id = ?r.group_id,
                    days = r.days,
                    entries,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "shortlist snapshot refreshed"
                ),
                insights::Refresh::Failed(error) => tracing::warn!(
                    tag = %r.tag,
                    group_id = ?r.group_id,
                    days = r.days,
                    %error,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "refreshing a shortlist snapshot failed; going on with the others"
                ),
                insights::Refresh::Left => tracing::debug!(
                    tag = %r.tag,
                    group_id = ?r.group_id,
                    days = r.days,
                    "shortlist snapshot left to its holder (a request computing it, another pass)"
                ),
            },
            Ok(None) => return,
            // The claim, or recording a topic's failure, failed: the database itself.
            Err(err) => {
                tracing::error!(error = %err, "refreshing a shortlist failed");
                return;
            }
        }
    }
}

/// One pass of the orphan-upload sweep (see `media_sweeper`): each batch in its own
/// transaction, its files removed once it has committed; then the files no upload names.
/// A stop ends it between two batches or two chunks of files: the next pass goes on.
async fn sweep_orphan_media(ctx: &Context, stop: &watch::Receiver<bool>) {
    let uploaded_before = chrono::Utc::now() - media_sweep::grace(ctx);
    let stopped = || *stop.borrow();
    let swept = media_sweep::sweep_orphan_uploads(ctx, media_sweep::BATCH, stopped, |batch| {
        ctx.transaction(move |conn| {
            media_sweep::forget_orphan_uploads(conn, uploaded_before, batch).scope_boxed()
        })
    })
    .await;
    match swept {
        Ok(swept) if swept.forgotten > 0 => tracing::info!(
            forgotten = swept.forgotten,
            files_kept = swept.files_kept,
            "orphan uploads swept"
        ),
        Ok(_) => {}
        Err(err) => tracing::error!(error = %err, "sweeping orphan uploads failed"),
    }
    // Then the files no upload names: read on one connection, no transaction (each lookup
    // stands alone; a file is removed only once no row names it).
    if stopped() {
        return;
    }
    let now = std::time::SystemTime::now();
    let removed = async {
        let mut conn = ctx.conn().await?;
        let chunk = media_sweep::FILES_CHUNK;
        media_sweep::remove_rowless_files(&mut conn, ctx, now, chunk, stopped).await
    };
    log_failure("removing media files without an upload row", removed.await);
}

/// Mail is off: the marks of notifications set to be mailed go, a batch per transaction.
async fn forget_mail_marks(ctx: &Context) {
    const BATCH: i64 = 1000;
    loop {
        let forgotten = ctx
            .transaction(|conn| {
                notification_mails::forget_marks_while_mail_is_off(conn, ctx, BATCH).scope_boxed()
            })
            .await;
        match forgotten {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => break,
            Err(err) => {
                tracing::error!(error = %err, "clearing notification mail marks failed");
                break;
            }
        }
    }
}
