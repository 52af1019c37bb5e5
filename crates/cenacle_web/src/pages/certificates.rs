//! A certificate's verification page: anyone who has its link sees whom it was issued to,
//! for which course, when, and whether it is still valid.

use crate::{
    render::{page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use cenacle_api::AppState;
use cenacle_core::certificates;

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    c: Chrome,
    holder: String,
    course: String,
    issued: String,
    expires: Option<String>,
    valid: bool,
}

pub async fn show(State(state): State<AppState>, v: Visitor, Path(code): Path<String>) -> Response {
    let found = async {
        let mut conn = state.ctx.conn().await?;
        certificates::verify(&mut conn, &state.ctx, &code).await
    }
    .await;
    let cert = match found {
        Ok(cert) => cert,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let course = v
        .words
        .pick(&cert.course_title_fr, &cert.course_title_en)
        .clone();
    page(
        &v,
        StatusCode::OK,
        &CertificatePage {
            c: Chrome::of(&v, &format!("/certificates/{code}")),
            holder: cert.display_name.clone().unwrap_or(cert.username.clone()),
            course,
            issued: v.words.date(&cert.issued_at),
            expires: cert.expires_at.as_ref().map(|e| v.words.date(e)),
            valid: cert.valid,
        },
    )
}
