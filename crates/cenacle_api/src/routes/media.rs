//! `POST /api/v1/media` (uploads) and `GET /media/{file}` (serving them).

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{Auth, MaybeAuth},
    AppState,
};
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use cenacle_apub::signed_fetch::FetchProof;
use cenacle_core::{access::Reader, media, Caller, CoreError, ScopedFutureExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct MediaView {
    /// Pass in a post's `attachments`.
    pub id: i64,
    pub url: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub description: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// What the image or video shows, for those who cannot see it (alt text, ≤ 1500
    /// characters); federated as the attachment's `name`.
    pub description: Option<String>,
}

/// Stores an upload and records it as the caller's: the description checked first (a refused
/// upload writes no file), then the file checked and written before the transaction that
/// records it (slow disk work holds no connection). Shared by the API, the web composer and
/// course authoring.
pub async fn store_upload(
    state: &AppState,
    caller: &Caller,
    declared_type: &str,
    bytes: Vec<u8>,
    description: Option<&str>,
) -> Result<cenacle_core::model::Media, CoreError> {
    let description = media::checked_description(description)?;
    let file = media::store_file(&state.ctx, declared_type, bytes).await?;
    state
        .ctx
        .transaction(|conn| media::record_upload(conn, caller, &file, description).scope_boxed())
        .await
}

/// Upload an image (PNG, JPEG, GIF, WebP) or a video (MP4, WebM): the raw file as the body,
/// its type as `Content-Type`. Size limits: `media.max_image_bytes`, `media.max_video_bytes`.
#[utoipa::path(post, path = "/api/v1/media", tag = "posts", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "image/png", description = "the file"),
    responses((status = 201, body = MediaView), (status = 413, body = ErrorBody), (status = 422, description = "unsupported type, or the bytes are not of the declared type", body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(session): Auth,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let caller = Caller::from(&session);
    let stored = store_upload(
        &state,
        &caller,
        declared,
        body.to_vec(),
        query.description.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(MediaView {
            id: stored.id,
            url: format!(
                "{}/media/{}",
                state.ctx.settings.public_base(),
                stored.file_name
            ),
            content_type: stored.content_type,
            size_bytes: stored.size_bytes,
            description: stored.description,
        }),
    ))
}

/// A stored file `reader` may fetch; None when it may not (or no such file).
async fn readable(
    state: &AppState,
    file: &str,
    reader: Reader<'_>,
) -> Result<Option<media::ServedMedia>, CoreError> {
    let mut conn = state.ctx.conn().await?;
    match media::readable(&mut conn, file, reader).await {
        Ok(found) => Ok(Some(found)),
        Err(CoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An uploaded file, with its content type. A file of a private group's post is served only
/// to those who may read the group — its members (bearer token), or by signed fetch the
/// instance of an approved follower — and never kept by shared caches; others get 404.
/// Other files are public by their unguessable name; one attached to no post yet is not kept
/// by shared caches either (it may yet become a private post's).
#[utoipa::path(get, path = "/media/{file}", tag = "posts",
    params(("file" = String, Path)),
    responses((status = 200, description = "the file"),
        (status = 206, description = "the one byte range asked (`Range: bytes=…`), at most 8 MiB"),
        (status = 404, body = ErrorBody),
        (status = 416, description = "a range beyond the file")))]
pub async fn serve(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    proof: FetchProof,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The connection is given back before the file is read, and before a signature is checked.
    let found = match session.as_ref().map(Caller::from) {
        Some(caller) => readable(&state, &file, Reader::Person(&caller))
            .await?
            .ok_or(CoreError::NotFound("media"))?,
        None => {
            let (state, file) = (&state, &file);
            proof
                .read(&state.federation, |reader| async move {
                    Ok(readable(state, file, reader).await?)
                })
                .await?
        }
    };
    let range = headers.get(header::RANGE).and_then(|r| r.to_str().ok());
    let part = media::read_file_part(&state.ctx, &found.media, range).await?;
    let content_type = found.media.content_type;
    let mut response = match part {
        media::FilePart::Whole(bytes) => bytes.into_response(),
        media::FilePart::Part {
            bytes,
            start,
            end,
            total,
        } => {
            let range = format!("bytes {start}-{end}/{total}");
            let mut response = (StatusCode::PARTIAL_CONTENT, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&range).map_err(|e| CoreError::Internal(e.to_string()))?,
            );
            response
        }
        media::FilePart::Unsatisfiable { total } => {
            let range = format!("bytes */{total}");
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&range).map_err(|e| CoreError::Internal(e.to_string()))?,
            );
            return Ok(response);
        }
    };
    let headers = response.headers_mut();
    // Players seek (and Safari plays video at all) by asking for parts.
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if found.sealed {
        // Only for whoever proved they may read it: no shared cache or proxy keeps a copy.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Authorization"));
    } else {
        // Cached for long (names are never reused).
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    Ok(response)
}
