//! The REST API of Cénacle under `/api/v1`, its conventions (JSON errors, cursor pagination,
//! body limit, rate limits), its OpenAPI document and the operations endpoints.
//!
//! Handlers are thin: they parse, call `cenacle_core` use cases, and shape the answer. They
//! reach the database only through core: a handler that writes opens one transaction for the
//! whole action (its reads for the answer included); a read-only handler takes one connection.
//! Slow work (password hashing, key generation, files) happens before either.
//! Every route is registered through `utoipa_axum::routes!`, which adds it to the router and to
//! the OpenAPI document in one step, so the document cannot silently miss a route.

pub mod error;
pub mod extract;
pub mod i18n;
pub mod ops;
pub mod pagination;
pub mod rate_limit;
pub mod routes;

use axum::{
    extract::DefaultBodyLimit, http::StatusCode, middleware, response::IntoResponse, Json, Router,
};
use cenacle_core::Context;
use error::ApiError;
use ops::Metrics;
use rate_limit::Limits;
use routes::{
    account, admin, approval, auctions, champions, community, course_authoring, email, engagement,
    federation, groups, instance, media, membership, moderation, notifications, onboarding, posts,
    queue, removals, reports, shop, training,
};
use std::sync::Arc;
use tower_http::{
    request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::{
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub ctx: Context,
    pub federation: cenacle_apub::Federation,
    pub limits: Arc<Limits>,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(ctx: Context, federation: cenacle_apub::Federation) -> Self {
        let limits = Limits::new(&ctx.settings.limits);
        Self {
            ctx,
            federation,
            limits: Arc::new(limits),
            metrics: Metrics::new(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cénacle API",
        description = "REST API of a Cénacle community server. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`; lists use cursor pagination (`limit`, `cursor` → `next_cursor`). Messages follow `Accept-Language` (fr or en).",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "account", description = "Registration, login, one's own profile"),
        (name = "admin", description = "Account management"),
        (name = "instance", description = "This instance"),
        (name = "groups", description = "Groups"),
        (name = "champions", description = "The champions programme: charter, nominations, tools, dashboard"),
        (name = "posts", description = "Questions, ideas, notes, answers, comments and votes"),
        (name = "engagement", description = "Reputation, points, ranks and leaderboards"),
        (name = "shop", description = "The gift shop and point auctions: rewards, orders, fulfilment, bids, reports"),
        (name = "community", description = "Insights for community managers: member statistics, the champions shortlist, negative-leader alerts"),
        (name = "moderation", description = "Moderation: the public moderation log"),
        (name = "notifications", description = "What a member is told about, and how they want to hear it"),
        (name = "onboarding", description = "The welcome, the onboarding journey and the triggered e-mails"),
        (name = "training", description = "The training space: courses, lessons, quizzes, progress and certificates"),
        (name = "federation", description = "Finding and following people and groups across the fediverse"),
        (name = "operations", description = "Probes, metrics and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every documented route. Add routes here, with `routes!`, and nowhere else.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(account::register))
        .routes(routes!(account::login))
        .routes(routes!(account::me, account::update_me))
        .routes(routes!(account::logout))
        .routes(routes!(account::logout_all))
        .routes(routes!(email::forgot))
        .routes(routes!(email::reset))
        .routes(routes!(email::verify))
        .routes(routes!(email::resend))
        .routes(routes!(email::change))
        .routes(routes!(email::confirm))
        .routes(routes!(email::unsubscribe))
        .routes(routes!(email::preferences, email::set_preferences))
        .routes(routes!(admin::list_accounts))
        .routes(routes!(admin::set_role))
        .routes(routes!(admin::approve))
        .routes(routes!(admin::create_invite))
        .routes(routes!(admin::block_instance))
        .routes(routes!(admin::allow_instance))
        .routes(routes!(admin::limit_instance))
        .routes(routes!(admin::ban, admin::bans, admin::unban))
        .routes(routes!(approval::settings, approval::set_settings))
        .routes(routes!(approval::pending))
        .routes(routes!(approval::approve))
        .routes(routes!(approval::reject))
        .routes(routes!(queue::failed_events))
        .routes(routes!(queue::retry_event))
        .routes(routes!(queue::parked_mails))
        .routes(routes!(queue::retry_mail))
        .routes(routes!(queue::retry_mails))
        .routes(routes!(groups::create))
        .routes(routes!(groups::get, groups::update))
        .routes(routes!(posts::create, posts::list))
        .routes(routes!(posts::get, posts::edit, posts::delete))
        .routes(routes!(posts::moderate))
        .routes(routes!(removals::remove_post, removals::restore_post))
        .routes(routes!(removals::remove_comment, removals::restore_comment))
        .routes(routes!(posts::comment))
        .routes(routes!(posts::accept))
        .routes(routes!(posts::idea_status))
        .routes(routes!(posts::history))
        .routes(routes!(posts::vote_post))
        .routes(routes!(posts::vote_comment))
        .routes(routes!(posts::edit_comment, posts::delete_comment))
        .routes(routes!(posts::join))
        .routes(routes!(posts::leave))
        .routes(routes!(posts::rate))
        .routes(routes!(media::serve))
        // Uploads may exceed the API's body limit: up to the hard cap here, to the configured
        // per-type limits in the handler.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(media::upload))
                .layer(DefaultBodyLimit::max(cenacle_config::MEDIA_BODY_CAP)),
        )
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::unread_count))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(notifications::mark_all_read))
        .routes(routes!(
            notifications::preferences,
            notifications::set_preferences
        ))
        .routes(routes!(onboarding::list_rules, onboarding::create_rule))
        .routes(routes!(onboarding::update_rule, onboarding::delete_rule))
        .routes(routes!(onboarding::dry_run))
        .routes(routes!(onboarding::get_welcome, onboarding::set_welcome))
        .routes(routes!(onboarding::list_steps, onboarding::create_step))
        .routes(routes!(onboarding::update_step, onboarding::delete_step))
        .routes(routes!(onboarding::mine))
        .routes(routes!(onboarding::dismiss_welcome))
        .routes(routes!(training::list_courses, training::create_course))
        .routes(routes!(training::get_course, course_authoring::edit_course))
        .routes(routes!(course_authoring::add_lesson))
        .routes(routes!(course_authoring::reorder_lessons))
        .routes(routes!(
            course_authoring::edit_lesson,
            course_authoring::delete_lesson
        ))
        .routes(routes!(course_authoring::add_quiz))
        .routes(routes!(
            course_authoring::edit_quiz,
            course_authoring::delete_quiz
        ))
        .routes(routes!(
            course_authoring::quiz_questions,
            course_authoring::add_question
        ))
        .routes(routes!(
            course_authoring::edit_question,
            course_authoring::delete_question
        ))
        .routes(routes!(training::publish_course))
        .routes(routes!(training::enrol))
        .routes(routes!(training::my_progress))
        .routes(routes!(training::statistics))
        .routes(routes!(training::lesson_done))
        .routes(routes!(training::start_attempt))
        .routes(routes!(training::submit_attempt))
        .routes(routes!(training::verify_certificate))
        .routes(routes!(posts::feed))
        .routes(routes!(posts::search))
        .routes(routes!(membership::members))
        .routes(routes!(moderation::group_log))
        .routes(routes!(moderation::instance_log))
        .routes(routes!(reports::reasons, reports::set_reasons))
        .routes(routes!(reports::file, reports::instance_queue))
        .routes(routes!(reports::mine))
        .routes(routes!(reports::moderated_elsewhere))
        .routes(routes!(reports::group_queue))
        .routes(routes!(reports::resolve))
        .routes(routes!(reports::dismiss))
        .routes(routes!(reports::bans))
        .routes(routes!(reports::ban, reports::unban))
        .routes(routes!(membership::set_role))
        .routes(routes!(membership::join_requests))
        .routes(routes!(membership::decide_join_request))
        .routes(routes!(membership::invite))
        .routes(routes!(membership::proposals, membership::propose))
        .routes(routes!(membership::back))
        .routes(routes!(membership::decide))
        .routes(routes!(engagement::my_reputation))
        .routes(routes!(engagement::my_points))
        .routes(routes!(engagement::grant))
        .routes(routes!(engagement::set_weight))
        .routes(routes!(engagement::leaderboard))
        .routes(routes!(community::member_stats))
        .routes(routes!(community::shortlist))
        .routes(routes!(community::alerts))
        .routes(routes!(engagement::person))
        .routes(routes!(engagement::offer_bounty, engagement::get_bounty))
        .routes(routes!(engagement::award_bounty))
        .routes(routes!(engagement::badges))
        .routes(routes!(engagement::award_badge))
        .routes(routes!(engagement::revoke_badge))
        .routes(routes!(engagement::restore_badge))
        .routes(routes!(engagement::set_title))
        .routes(routes!(
            engagement::create_contest,
            engagement::list_contests
        ))
        .routes(routes!(engagement::get_contest))
        .routes(routes!(engagement::close_contest))
        .routes(routes!(shop::list_rewards, shop::create_reward))
        .routes(routes!(shop::get_reward, shop::edit_reward))
        .routes(routes!(shop::restock))
        .routes(routes!(shop::adjust_stock, shop::stock_adjustments))
        .routes(routes!(shop::add_codes))
        .routes(routes!(shop::redeem))
        .routes(routes!(shop::my_orders))
        .routes(routes!(shop::pending_orders))
        .routes(routes!(shop::set_order_status))
        .routes(routes!(shop::set_address))
        .routes(routes!(shop::report))
        .routes(routes!(auctions::list, auctions::create))
        .routes(routes!(auctions::get))
        .routes(routes!(auctions::bid))
        .routes(routes!(auctions::cancel))
        .routes(routes!(champions::dashboard))
        .routes(routes!(champions::charter, champions::publish_charter))
        .routes(routes!(champions::nominate))
        .routes(routes!(champions::set_objective))
        .routes(routes!(champions::renew))
        .routes(routes!(champions::lapse))
        .routes(routes!(champions::remove))
        .routes(routes!(champions::audit))
        .routes(routes!(champions::renewals))
        .routes(routes!(champions::solutions_share))
        .routes(routes!(champions::priority_queue))
        .routes(routes!(champions::notices, champions::broadcast))
        .routes(routes!(champions::me))
        .routes(routes!(champions::answer_invitation))
        .routes(routes!(champions::accept_charter))
        .routes(routes!(champions::leave))
        .routes(routes!(champions::new_questions))
        .routes(routes!(champions::tool_accept))
        .routes(routes!(champions::tool_pin))
        .routes(routes!(champions::tool_move))
        .routes(routes!(federation::resolve))
        .routes(routes!(
            federation::follow,
            federation::list,
            federation::unfollow
        ))
        .routes(routes!(instance::info))
        .routes(routes!(instance::setup))
        .routes(routes!(openapi_json))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
}

/// The OpenAPI 3.1 document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_routes().into_openapi()
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(
        DOC.get_or_init(|| serde_json::to_value(openapi()).expect("openapi serialises"))
            .clone(),
    )
}

/// The REST API (`/api/v1`, the media files, probes and this document) with its JSON
/// answers for unknown routes (404 `route_not_found`) and methods (405). Only this router has
/// a fallback, so the server can merge the federation and web routers into it; then it wraps
/// the whole with [`with_layers`]:
/// `with_layers(router(state.clone()).merge(cenacle_apub::routes::router(fed)), &state)`.
pub fn router(state: AppState) -> Router {
    let (routes, _doc) = documented_routes().split_for_parts();
    routes
        .with_state(state)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "route_not_found") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        })
}

/// `/metrics` alone, for its own listener (`metrics.bind`): what it tells (traffic, queues,
/// pool use) is for the operator, so it is never routed on the public port, and it is not part
/// of the public API's document.
pub fn metrics_router(state: AppState) -> Router {
    let (routes, _doc) = OpenApiRouter::new()
        .routes(routes!(ops::metrics))
        .split_for_parts();
    routes.with_state(state)
}

/// The layers every route of the application shares, whichever crate it comes from: error
/// messages in the request's language, metrics, the body limit, a trace span per request
/// (method and path only) and request ids.
pub fn with_layers(app: Router, state: &AppState) -> Router {
    let max_body = state.ctx.settings.limits.max_body_bytes;
    app.layer(middleware::from_fn(ops::negotiate_language))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ops::track_metrics,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            // Only the method and path are logged: bodies and headers carry passwords and tokens.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .unwrap_or("-")
                    .to_owned();
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(ops::RandomRequestId))
}
