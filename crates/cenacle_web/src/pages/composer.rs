//! The composer: a new question, idea or note in a group, with an image and a Markdown
//! preview that works without JavaScript (the preview button posts the form and the page
//! comes back with the rendered text and everything typed kept).

use super::{acting, signed_in};
use crate::{
    render::{page, see_other, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{multipart::Field, Multipart, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use cenacle_api::{routes::media::store_upload, AppState};
use cenacle_apub::mentions::{meet_mentioned, WrittenIn};
use cenacle_apub::objects::content::markdown_to_page_html;
use cenacle_core::{
    groups, media,
    model::Group,
    posts::{self, PostInput},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::content::PostKind;
use serde::Deserialize;

/// What the member typed, kept across previews and errors (read from the multipart form).
#[derive(Default)]
pub struct AskForm {
    csrf: String,
    kind: String,
    title: String,
    body: String,
    tags: String,
    /// The alt text of the image sent with this form.
    description: String,
    /// Uploads already made by an earlier preview of this form, to attach.
    attachments: Vec<i64>,
    /// The preview button was pressed, not publish.
    preview: bool,
    /// This form's one-time key: the same form sent twice publishes once.
    once: String,
}

/// An image sent with the form.
struct Upload {
    content_type: String,
    bytes: Vec<u8>,
}

/// An attachment as the form shows it.
pub struct AttachedImage {
    id: i64,
    url: String,
    alt: String,
}

#[derive(Template)]
#[template(path = "ask.html")]
struct AskPage {
    c: Chrome,
    group: String,
    group_title: String,
    /// (key, label, whether it is chosen)
    kinds: Vec<(&'static str, String, bool)>,
    form: AskForm,
    images: Vec<AttachedImage>,
    /// The body as it will read, after "preview".
    preview_html: Option<String>,
    error: Option<String>,
    field: String,
}

fn ask_page(v: &Visitor, group: &Group, form: AskForm) -> AskPage {
    AskPage {
        c: Chrome::of(v, &format!("/groups/{}/ask", group.name)),
        group: group.name.clone(),
        group_title: group.title.clone(),
        kinds: ["question", "idea", "note"]
            .into_iter()
            .map(|k| (k, v.words.t(&format!("kind-{k}")), k == form.kind))
            .collect(),
        form,
        images: vec![],
        preview_html: None,
        error: None,
        field: String::new(),
    }
}

/// A composer started elsewhere (the "ask the community" widget) may bring its title.
#[derive(Deserialize)]
pub struct Prefill {
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: Option<String>,
}

pub async fn ask_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
    Query(prefill): Query<Prefill>,
) -> Response {
    let mut here = format!("/groups/{name}/ask");
    if !prefill.title.is_empty() {
        here = format!("{here}?title={}", super::encode_path(&prefill.title));
    }
    if let Err(redirect) = signed_in(&v, &here) {
        return redirect.into_response();
    }
    let caller = v.caller();
    let found = async {
        let mut conn = state.ctx.conn().await?;
        groups::readable_group(&mut conn, caller.as_ref(), &name).await
    }
    .await;
    match found {
        Ok(group) => {
            let kind = prefill
                .kind
                .filter(|k| k.parse::<PostKind>().is_ok())
                .unwrap_or_else(|| "question".into());
            let form = AskForm {
                kind,
                title: prefill.title.chars().take(200).collect(),
                once: crate::session::fresh_token(),
                ..Default::default()
            };
            page(&v, StatusCode::OK, &ask_page(&v, &group, form))
        }
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

/// Reads the form's fields in the order the browser sends them. A field that cannot be read
/// (the body over its limit) ends the reading: what came before it is kept for the page.
async fn read_form(mut multipart: Multipart) -> (AskForm, Option<Upload>, Option<&'static str>) {
    let mut form = AskForm::default();
    let mut upload = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return (form, upload, None),
            Err(e) => return (form, upload, Some(too_large_or_invalid(e.status()))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "image" {
            let has_file = field.file_name().is_some_and(|n| !n.is_empty());
            let content_type = field.content_type().unwrap_or_default().to_owned();
            match field.bytes().await {
                Ok(bytes) if has_file && !bytes.is_empty() => {
                    upload = Some(Upload {
                        content_type,
                        bytes: bytes.to_vec(),
                    })
                }
                Ok(_) => {}
                Err(e) => return (form, upload, Some(too_large_or_invalid(e.status()))),
            }
            continue;
        }
        let value = match text(field).await {
            Ok(value) => value,
            Err(code) => return (form, upload, Some(code)),
        };
        match name.as_str() {
            "csrf" => form.csrf = value,
            "kind" => form.kind = value,
            "title" => form.title = value,
            "body" => form.body = value,
            "tags" => form.tags = value,
            "description" => form.description = value,
            "attachment" => form.attachments.extend(value.parse::<i64>().ok()),
            "action" => form.preview = value == "preview",
            "once" => form.once = value,
            _ => {}
        }
    }
}

async fn text(field: Field<'_>) -> Result<String, &'static str> {
    field
        .text()
        .await
        .map_err(|e| too_large_or_invalid(e.status()))
}

fn too_large_or_invalid(status: StatusCode) -> &'static str {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        "file_too_large"
    } else {
        "field"
    }
}

/// Publishes a post, or shows its preview; on invalid fields, the same form again with the
/// error next to the field and everything the member wrote kept (an image already sent stays
/// attached).
pub async fn ask(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
    multipart: Multipart,
) -> Response {
    let (mut form, upload, unreadable) = read_form(multipart).await;
    let caller = match acting(&v, &format!("/groups/{name}/ask"), &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let group = async {
        let mut conn = state.ctx.conn().await?;
        groups::readable_group(&mut conn, Some(&caller), &name).await
    }
    .await;
    let group = match group {
        Ok(group) => group,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    if let Some(code) = unreadable {
        return again(&state, &v, &group, form, "image", code).await;
    }
    if let Some(upload) = upload {
        let description = Some(form.description.as_str());
        match store_upload(
            &state,
            &caller,
            &upload.content_type,
            upload.bytes,
            description,
        )
        .await
        {
            Ok(stored) => {
                form.attachments.push(stored.id);
                form.description.clear();
            }
            Err(CoreError::Validation(invalid)) => {
                let field = if invalid.field == "description" {
                    "description"
                } else {
                    "image"
                };
                return again(&state, &v, &group, form, field, invalid.code).await;
            }
            Err(CoreError::TooLarge(_)) => {
                return again(&state, &v, &group, form, "image", "file_too_large").await;
            }
            Err(e) => return PageError::from_core(e, &v).into_response(),
        }
    }
    // Only the member's own uploads ride along (an id typed into the form by hand is dropped,
    // not an error that would lose what they wrote).
    let owned = async {
        let mut conn = state.ctx.conn().await?;
        media::own_uploads(&mut conn, Some(&caller), &form.attachments).await
    }
    .await;
    match owned {
        Ok(list) => form.attachments = list.iter().map(|m| m.id).collect(),
        Err(e) => return PageError::from_core(e, &v).into_response(),
    }
    if form.preview {
        return shown(&state, &v, &group, form, StatusCode::OK, None, true).await;
    }
    let input = PostInput {
        kind: form.kind.parse().unwrap_or(PostKind::Question),
        title: form.title.clone(),
        body: form.body.clone(),
        tags: form
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        language: Some(v.words.0),
        attachments: form.attachments.clone(),
        remote_attachments: vec![],
    };
    // A form shown by this server carries its key; one without (or with a forged one) still
    // publishes, without the protection.
    let once = Some(form.once.as_str()).filter(|k| is_form_key(k));
    let texts = [form.title.as_str(), &form.body];
    meet_mentioned(&state.federation, &texts, WrittenIn::Group(&group)).await;
    let (ctx, caller_ref, name_ref) = (&state.ctx, &caller, &name);
    let created = ctx
        .transaction(|conn| {
            async move {
                let group = groups::local_group(conn, name_ref).await?;
                match once {
                    Some(key) => {
                        posts::create_post_once(conn, ctx, caller_ref, &group, input, key).await
                    }
                    None => posts::create_post(conn, ctx, caller_ref, &group, input, None).await,
                }
            }
            .scope_boxed()
        })
        .await;
    match created {
        Ok(post) => see_other(&format!("/posts/{}", post.id), vec![]),
        Err(CoreError::Validation(invalid)) => {
            again(&state, &v, &group, form, invalid.field, invalid.code).await
        }
        // Published already, then changed (Back, edit, Publish): a new key for a new post,
        // after the member confirms.
        Err(CoreError::IdempotencyKeyReused) => {
            form.once = crate::session::fresh_token();
            again(&state, &v, &group, form, "title", "already_published").await
        }
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

/// Whether `key` looks like a key this server gave a form (43 URL-safe characters).
fn is_form_key(key: &str) -> bool {
    key.len() == 43
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The fields `ask.html` shows an error beside; "" is the form's head.
const FIELDS_WITH_ERRORS: [&str; 7] = [
    "",
    "attachments",
    "title",
    "body",
    "tags",
    "description",
    "image",
];

/// The form again, 422, with `code`'s message next to `field`.
async fn again(
    state: &AppState,
    v: &Visitor,
    group: &Group,
    form: AskForm,
    field: &str,
    code: &str,
) -> Response {
    // A field the form has no place for (`media`: an image the body named, removed
    // meanwhile) is said at the form's head, not lost.
    let field = if FIELDS_WITH_ERRORS.contains(&field) {
        field
    } else {
        ""
    };
    let error = Some((field.to_owned(), v.words.invalid(code)));
    shown(
        state,
        v,
        group,
        form,
        StatusCode::UNPROCESSABLE_ENTITY,
        error,
        false,
    )
    .await
}

async fn shown(
    state: &AppState,
    v: &Visitor,
    group: &Group,
    form: AskForm,
    status: StatusCode,
    error: Option<(String, String)>,
    preview: bool,
) -> Response {
    let caller = v.caller();
    let images = async {
        let mut conn = state.ctx.conn().await?;
        media::own_uploads(&mut conn, caller.as_ref(), &form.attachments).await
    }
    .await;
    let images = match images {
        Ok(list) => list,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let preview_html = preview.then(|| markdown_to_page_html(&form.body));
    let mut shown = ask_page(v, group, form);
    // Only the caller's own uploads come back: an id typed into the form by hand is dropped.
    shown.form.attachments = images.iter().map(|m| m.id).collect();
    shown.images = images
        .into_iter()
        .map(|m| AttachedImage {
            id: m.id,
            url: format!("/media/{}", m.file_name),
            alt: m.description.unwrap_or_default(),
        })
        .collect();
    shown.preview_html = preview_html;
    if let Some((field, message)) = error {
        shown.field = field;
        shown.error = Some(message);
    }
    page(v, status, &shown)
}
