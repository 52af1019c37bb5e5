//! The web pages' routes and what every page answer carries: a strict Content-Security-Policy
//! (our own styles only, no inline script, no framing), no MIME sniffing, no referrer to other
//! sites.

use crate::{
    pages::{
        account, admin, approval, auctions, badges, bounty, certificates, champions, composer,
        contests, course_authoring, courses, email, feed, groups, join_requests, leaderboard,
        notifications, onboarding_admin, person, post, proposals, reports, search, shop, votes,
        welcome, widgets,
    },
    render::PageError,
    session::Visitor,
};
use axum::extract::FromRequestParts;
use axum::{
    extract::{DefaultBodyLimit, Request},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post as post_route},
    Router,
};
use cenacle_api::AppState;

const STYLE: &str = include_str!("../static/style.css");
const VOTES_JS: &str = include_str!("../static/votes.js");
const AUCTION_JS: &str = include_str!("../static/auction.js");

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; media-src 'self' https:; \
                   script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The pages, to merge into the application beside the API and federation routers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(feed::home))
        .route("/all", get(feed::everything))
        .route("/signin", get(account::sign_in_form).post(account::sign_in))
        .route("/signup", get(account::sign_up_form).post(account::sign_up))
        .route("/signout", post_route(account::sign_out))
        .route("/lang/{code}", get(account::choose_language))
        .route("/account", get(email::account))
        .route("/account/email", post_route(email::change))
        .route(
            "/password/forgot",
            get(email::forgot_form).post(email::forgot),
        )
        .route("/password/reset", get(email::reset_form).post(email::reset))
        .route("/email/verify", get(email::verify_form).post(email::verify))
        .route(
            "/email/confirm",
            get(email::confirm_form).post(email::confirm),
        )
        .route(
            "/unsubscribe",
            get(email::unsubscribe_form).post(email::unsubscribe),
        )
        .route("/groups", get(groups::directory))
        .route("/groups/follow", post_route(groups::follow))
        .route("/groups/{name}", get(groups::group_page))
        .route("/groups/{name}/join", post_route(groups::join))
        .route(
            "/groups/{name}/ask",
            get(composer::ask_form)
                .post(composer::ask)
                // The composer carries an image: the body may be as large as one (and the
                // text fields around it).
                .layer(DefaultBodyLimit::max(
                    state.ctx.settings.media.max_image_bytes + 1024 * 1024,
                )),
        )
        .route("/groups/{name}/ideas", get(groups::idea_board))
        .route("/groups/{name}/requests", get(join_requests::list))
        .route(
            "/groups/{name}/requests/{person}",
            post_route(join_requests::decide),
        )
        .route("/proposals", get(proposals::list).post(proposals::propose))
        .route("/proposals/{id}/back", post_route(proposals::back))
        .route("/groups/{name}/reports", get(reports::group_queue))
        .route("/groups/{name}/pending", get(approval::queue))
        .route(
            "/groups/{name}/pending/settings",
            post_route(approval::change_settings),
        )
        .route("/groups/{name}/pending/{id}", post_route(approval::decide))
        .route("/report", get(reports::report_form).post(reports::file))
        .route("/reports/mine", get(reports::mine))
        .route("/reports/{id}/close", post_route(reports::close))
        .route("/moderation/reports", get(reports::instance_queue))
        .route(
            "/moderation/reports/elsewhere",
            get(reports::moderated_elsewhere),
        )
        .route("/posts/{id}", get(post::show))
        .route("/posts/{id}/answers", post_route(post::answer))
        .route("/posts/{id}/accept", post_route(post::accept))
        .route("/posts/{id}/status", post_route(post::change_status))
        .route("/comments/{id}/remove", post_route(post::remove_comment))
        .route("/comments/{id}/restore", post_route(post::restore_comment))
        .route("/notifications", get(notifications::show))
        .route("/welcome", get(welcome::show))
        .route("/welcome/dismiss", post_route(welcome::dismiss))
        .route(
            "/notifications/read-all",
            post_route(notifications::mark_all_read),
        )
        .route(
            "/notifications/{id}/read",
            post_route(notifications::mark_read),
        )
        .route(
            "/account/notifications",
            get(notifications::account).post(notifications::save_preferences),
        )
        .route("/people/{handle}", get(person::show))
        .route("/search", get(search::search))
        .route("/leaderboard", get(leaderboard::show))
        .route("/shop", get(shop::catalogue))
        .route("/shop/rewards/{id}/redeem", post_route(shop::redeem))
        .route("/shop/rewards/{id}/edit", post_route(shop::edit_reward))
        .route("/shop/rewards/{id}/restock", post_route(shop::restock))
        .route(
            "/shop/rewards/{id}/stock-adjustments",
            post_route(shop::adjust_stock),
        )
        .route("/shop/orders", get(shop::my_orders))
        .route("/auctions", get(auctions::list).post(auctions::put_up))
        .route("/auctions/{id}", get(auctions::show))
        .route("/auctions/{id}/live", get(auctions::live))
        .route("/auctions/{id}/bid", post_route(auctions::bid))
        .route("/auctions/{id}/cancel", post_route(auctions::cancel))
        .route("/certificates/{code}", get(certificates::show))
        .route("/courses", get(courses::list))
        .route(
            "/courses/new",
            get(course_authoring::new_form).post(course_authoring::create),
        )
        .route("/courses/{id}", get(courses::show))
        .route(
            "/courses/{id}/edit",
            get(course_authoring::edit_form)
                .post(course_authoring::save)
                // The editor carries the cover image.
                .layer(DefaultBodyLimit::max(
                    state.ctx.settings.media.max_image_bytes + 1024 * 1024,
                )),
        )
        .route(
            "/courses/{id}/publish",
            post_route(course_authoring::publish),
        )
        .route(
            "/courses/{id}/lessons",
            post_route(course_authoring::add_lesson),
        )
        .route(
            "/courses/{id}/quizzes",
            post_route(course_authoring::add_quiz),
        )
        .route(
            "/lessons/{id}/edit",
            get(course_authoring::lesson_form)
                .post(course_authoring::save_lesson)
                // The editor carries an image or a video for the lesson's text.
                .layer(DefaultBodyLimit::max(
                    state
                        .ctx
                        .settings
                        .media
                        .max_image_bytes
                        .max(state.ctx.settings.media.max_video_bytes)
                        + 1024 * 1024,
                )),
        )
        .route("/lessons/{id}/up", post_route(course_authoring::lesson_up))
        .route(
            "/lessons/{id}/delete",
            post_route(course_authoring::delete_lesson),
        )
        .route(
            "/quizzes/{id}/edit",
            get(course_authoring::quiz_form).post(course_authoring::save_quiz),
        )
        .route(
            "/quizzes/{id}/delete",
            post_route(course_authoring::delete_quiz),
        )
        .route(
            "/quizzes/{id}/questions",
            post_route(course_authoring::add_question),
        )
        .route(
            "/quizzes/{quiz}/questions/{id}/delete",
            post_route(course_authoring::delete_question),
        )
        .route(
            "/questions/{id}/edit",
            get(course_authoring::question_form).post(course_authoring::save_question),
        )
        .route("/courses/{id}/enrol", post_route(courses::enrol))
        .route("/courses/{id}/statistics", get(courses::statistics))
        .route(
            "/courses/{course}/quizzes/{quiz}/start",
            post_route(courses::start),
        )
        .route("/lessons/{id}", get(courses::lesson))
        .route("/lessons/{id}/done", post_route(courses::lesson_done))
        .route("/attempts/{id}", get(courses::attempt))
        .route("/attempts/{id}/submit", post_route(courses::submit))
        .route("/contests", get(contests::list).post(contests::open))
        .route("/contests/{id}", get(contests::show))
        .route("/contests/{id}/close", post_route(contests::close))
        .route("/champions/me", get(champions::mine))
        .route(
            "/champions/me/invitation",
            post_route(champions::answer_invitation),
        )
        .route(
            "/champions/me/charter",
            post_route(champions::accept_charter),
        )
        .route("/champions/me/exit", post_route(champions::leave))
        .route("/admin/accounts", get(admin::accounts))
        .route("/admin/badges", get(badges::show).post(badges::change))
        .route("/admin/onboarding", get(onboarding_admin::show))
        .route(
            "/admin/onboarding/welcome",
            post_route(onboarding_admin::save_welcome),
        )
        .route(
            "/admin/onboarding/steps",
            post_route(onboarding_admin::save_step),
        )
        .route(
            "/admin/onboarding/rules",
            post_route(onboarding_admin::save_rule),
        )
        .route("/admin/invites", post_route(admin::invite))
        .route(
            "/admin/accounts/{username}/role",
            post_route(admin::set_role),
        )
        .route(
            "/admin/accounts/{username}/approve",
            post_route(admin::approve),
        )
        .route(
            "/admin/instances",
            get(admin::instances).post(admin::change_instance),
        )
        .route("/admin/mail", get(admin::parked_mails))
        .route("/admin/mail/retry", post_route(admin::retry_parked_mails))
        .route(
            "/admin/mail/{id}/retry",
            post_route(admin::retry_parked_mail),
        )
        .route("/widgets/answers", get(widgets::answers))
        .route("/widgets/ask", get(widgets::ask))
        .route("/widgets/people/{name}/card", get(widgets::card))
        .route("/widgets/embed.js", get(widgets::embed_script))
        .route("/posts/{id}/vote", post_route(votes::vote_post))
        .route("/comments/{id}/vote", post_route(votes::vote_comment))
        .route("/posts/{id}/bounty", post_route(bounty::offer))
        .route("/posts/{id}/bounty/award", post_route(bounty::award))
        .route(
            "/static/style.css",
            get(|| async { static_file("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/static/votes.js",
            get(|| async { static_file("text/javascript; charset=utf-8", VOTES_JS) }),
        )
        .route(
            "/static/auction.js",
            get(|| async { static_file("text/javascript; charset=utf-8", AUCTION_JS) }),
        )
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// A file compiled into the binary, cached an hour.
fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    // Pages that set their own policy keep it (the widgets: framable by the allowed origins).
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Pages show what a member may see: never kept by shared caches.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-cache"));
    response
}

/// Wraps the whole application: a browser asking for an unknown page (not under `/api/`, with
/// `text/html` in its `Accept`) gets a 404 page in its language, with its own menu (signed in
/// or not), instead of the API's JSON.
pub fn with_html_errors(app: Router, state: AppState) -> Router {
    app.layer(middleware::from_fn(move |req: Request, next: Next| {
        let state = state.clone();
        async move {
            let wants_page = !req.uri().path().starts_with("/api/")
                && req
                    .headers()
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|accept| accept.contains("text/html"));
            // What the visitor is known by (cookies, languages), kept to read them only when
            // the page is missing.
            let headers = wants_page.then(|| req.headers().clone());
            let response = next.run(req).await;
            let is_json = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/json"));
            match headers {
                Some(headers) if response.status() == StatusCode::NOT_FOUND && is_json => {
                    not_found_page(&state, headers).await
                }
                _ => response,
            }
        }
    }))
}

/// The 404 page for the visitor these headers describe.
async fn not_found_page(state: &AppState, headers: axum::http::HeaderMap) -> Response {
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.headers = headers;
    let mut page = match Visitor::from_request_parts(&mut parts, state).await {
        Ok(v) => PageError::not_found(v.words, v.instance.clone())
            .for_visitor(&v)
            .into_response(),
        Err(refused) => refused.into_response(),
    };
    page.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    page
}
