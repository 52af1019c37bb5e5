//! Widgets for the organisation's own site: the latest accepted answers (for a tag or a
//! group), an "ask the community" box, and a member's badge card — small pages another site
//! frames, plus `embed.js` that frames them where it finds `data-cenacle-widget` elements.
//!
//! They are anonymous (our session cookie is `SameSite=Lax`, never sent inside another site's
//! frame) and show only what anyone may read. Only the origins in `web.widget_origins` may
//! frame them: the browser enforces it (`frame-ancestors`), and a framing request from
//! another site, recognised by its `Referer`, is refused here too.

use crate::i18n::Words;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use cenacle_api::AppState;
use cenacle_apub::objects::content::markdown_to_html;
use cenacle_core::{feeds, identity, people, CoreError};
use cenacle_domain::Language;
use serde::Deserialize;

const EMBED_JS: &str = include_str!("../../static/embed.js");

#[derive(Deserialize, Default)]
pub struct WidgetQuery {
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    group: Option<String>,
    /// `fr` or `en`; else the browser's `Accept-Language`.
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// One accepted answer, as a widget lists it.
pub struct AnswerItem {
    question: String,
    link: String,
    excerpt: String,
}

#[derive(Template)]
#[template(path = "widget_answers.html")]
struct AnswersWidget {
    t: Words,
    base: String,
    tag: Option<String>,
    group: Option<String>,
    items: Vec<AnswerItem>,
}

#[derive(Template)]
#[template(path = "widget_ask.html")]
struct AskWidget {
    t: Words,
    base: String,
    group: String,
    group_title: String,
}

#[derive(Template)]
#[template(path = "widget_card.html")]
struct CardWidget {
    t: Words,
    base: String,
    name: String,
    handle: String,
    profile: String,
    rank: String,
    reputation: String,
    /// Names of the badges shown (the most recent few).
    badges: Vec<String>,
}

/// Badges a card shows.
const CARD_BADGES: usize = 5;
/// Characters of an answer a widget shows before "…".
const EXCERPT_CHARS: usize = 220;

fn words(headers: &HeaderMap, q: &WidgetQuery) -> Words {
    Words(
        q.lang
            .as_deref()
            .and_then(Language::parse)
            .unwrap_or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(Language::from_accept_language)
                    .unwrap_or_default()
            }),
    )
}

/// The origin (`scheme://host[:port]`) of a URL a browser sent.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .host_str()
        .is_some()
        .then(|| parsed.origin().ascii_serialization())
}

/// Refuses a framing by a site that is not allowed, when the browser says who frames: the
/// `Referer` it sends with the frame's request (`Sec-Fetch-Site` alone will not do: browsers
/// send it over https only). Our own pages, and browsers that say nothing, are left to
/// `frame-ancestors`.
fn refuse_framing(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if matches!(header("sec-fetch-site"), Some("same-origin" | "none")) {
        return None;
    }
    let settings = &state.ctx.settings;
    let framer = header("referer").and_then(origin_of)?;
    if origin_of(&settings.public_base()).as_deref() == Some(framer.as_str())
        || settings.web.widget_origin_allowed(&framer)
    {
        return None;
    }
    tracing::info!(%framer, "a widget framed by a site not in web.widget_origins: refused");
    Some(
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "this site may not embed these widgets (web.widget_origins)",
        )
            .into_response(),
    )
}

/// A widget's answer: its HTML, framable by the allowed origins only.
fn widget(state: &AppState, template: &impl Template) -> Response {
    let html = match template.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "a widget failed to render");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let origins = &state.ctx.settings.web.widget_origins;
    let ancestors = if origins.is_empty() {
        "'none'".to_owned()
    } else {
        origins.join(" ")
    };
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
         form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Public content only: a short shared cache keeps the brand's pages fast.
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        html,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    // Answers differ by the language asked and by who frames them.
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Referer, Sec-Fetch-Site"),
    );
    response
}

fn failed(e: CoreError) -> Response {
    match e {
        CoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
        e => {
            tracing::error!(error = %e, "a widget failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The start of an answer as plain text: its Markdown rendered (as the page shows it), the
/// markup dropped, to be escaped again by the template.
fn excerpt(markdown: &str) -> String {
    let html = markdown_to_html(markdown);
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(ch),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT_CHARS {
        flat
    } else {
        let cut: String = flat.chars().take(EXCERPT_CHARS).collect();
        format!("{}…", cut.trim_end())
    }
}

/// `/widgets/answers?tag=…&group=…&lang=…&limit=…`: the latest accepted answers.
pub async fn answers(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<WidgetQuery>,
) -> Response {
    if let Some(refused) = refuse_framing(&state, &headers) {
        return refused;
    }
    let t = words(&headers, &q);
    let found = async {
        let mut conn = state.ctx.conn().await?;
        feeds::latest_answers(
            &mut conn,
            q.tag.as_deref(),
            q.group.as_deref().filter(|g| !g.is_empty()),
            q.limit.unwrap_or(5),
        )
        .await
    }
    .await;
    let list = match found {
        Ok(list) => list,
        Err(e) => return failed(e),
    };
    let base = state.ctx.settings.public_base();
    let items = list
        .into_iter()
        .map(|(post, answer)| AnswerItem {
            link: format!("{base}/posts/{}#answer-{}", post.id, answer.id),
            question: post.title,
            excerpt: excerpt(&answer.body),
        })
        .collect();
    widget(
        &state,
        &AnswersWidget {
            t,
            base,
            tag: q.tag.filter(|t| !t.trim().is_empty()),
            group: q.group.filter(|g| !g.is_empty()),
            items,
        },
    )
}

/// `/widgets/ask?group=…`: a box that starts a question in one of our public groups. It
/// opens our composer in a new window, where the member signs in if needed (our cookies are
/// not sent inside another site's frame), the title already typed.
pub async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<WidgetQuery>,
) -> Response {
    if let Some(refused) = refuse_framing(&state, &headers) {
        return refused;
    }
    let t = words(&headers, &q);
    let Some(name) = q.group.clone().filter(|g| !g.is_empty()) else {
        return (StatusCode::NOT_FOUND, "which group? (?group=name)").into_response();
    };
    let found = async {
        let mut conn = state.ctx.conn().await?;
        // Public groups only: a widget never reveals that a private group exists.
        cenacle_core::groups::readable_group(&mut conn, None, &name).await
    }
    .await;
    let group = match found {
        Ok(group) if group.local => group,
        Ok(_) => return failed(CoreError::NotFound("group")),
        Err(e) => return failed(e),
    };
    widget(
        &state,
        &AskWidget {
            t,
            base: state.ctx.settings.public_base(),
            group: group.name,
            group_title: group.title,
        },
    )
}

/// `/widgets/people/{name}/card`: a member's badge card (one of ours).
pub async fn card(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<WidgetQuery>,
) -> Response {
    if let Some(refused) = refuse_framing(&state, &headers) {
        return refused;
    }
    let t = words(&headers, &q);
    let found = async {
        let mut conn = state.ctx.conn().await?;
        let person = people::person_by_handle(&mut conn, &state.ctx, &name).await?;
        if !person.local {
            return Err(CoreError::NotFound("person"));
        }
        people::profile(&mut conn, &state.ctx, person).await
    }
    .await;
    let profile = match found {
        Ok(found) => found,
        Err(e) => return failed(e),
    };
    let base = state.ctx.settings.public_base();
    let person = profile.person;
    let host = identity::local_host(&state.ctx.settings);
    widget(
        &state,
        &CardWidget {
            name: person
                .display_name
                .clone()
                .unwrap_or_else(|| person.username.clone()),
            handle: format!("@{}@{host}", person.username),
            profile: format!("{base}/people/{}", person.username),
            rank: profile
                .rank
                .map(|r| t.pick(r.name_fr, r.name_en))
                .unwrap_or_default(),
            reputation: t.number(profile.reputation),
            badges: profile
                .badges
                .into_iter()
                .rev()
                .take(CARD_BADGES)
                .map(|b| t.pick(b.name_fr, b.name_en))
                .collect(),
            t,
            base,
        },
    )
}

/// `/widgets/embed.js`: frames a widget in each `data-cenacle-widget` element of the page.
pub async fn embed_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        EMBED_JS,
    )
        .into_response()
}
