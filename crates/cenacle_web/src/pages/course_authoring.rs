//! The training space for trainers: a new course (a draft with its texts), a course's editor
//! (texts, audience, validity, cover image, publish or withdraw, its lessons and quizzes), a
//! lesson's editor (Markdown with a preview that works without JavaScript, and an image to
//! append from the media store) and a quiz's editor (its settings, its questions with their
//! answers). Every rule is the core's (`cenacle_core::course_authoring`); a refusal comes
//! back beside the field at fault with what was typed kept. Members get the 403 page: the
//! core checks `ManageTraining`.

use super::acting;
use crate::{
    render::{field_refusal, page, see_other, Chrome, FieldRefusal, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::{routes::media::store_upload, AppState};
use cenacle_apub::objects::content::markdown_to_page_html;
use cenacle_core::{
    accounts::Session,
    course_authoring::{self as authoring, CourseEditInput, QuizSettingsInput},
    courses::{self, ChoiceInput, CourseInput, LessonInput, QuestionInput},
    model::{ChoiceRow, QuestionRow},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::{numbers::parse_number, Permission};
use serde::Deserialize;
use std::collections::HashMap;

/// The signed-in session of a form whose token matches, or the answer to give instead.
fn trainer<'a>(v: &'a Visitor, here: &str, csrf: &str) -> Result<&'a Session, Box<Response>> {
    acting(v, here, csrf).map_err(|r| Box::new(r.into_response()))?;
    v.session.as_ref().ok_or_else(|| {
        Box::new(PageError::from_core(CoreError::Unauthenticated, v).into_response())
    })
}

/// The CSRF token of a form read as its list of fields (the question forms, whose choices
/// repeat their names).
fn csrf_of(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The signed-in session of a page's reader, or the way to sign in.
fn reader<'a>(v: &'a Visitor, here: &str) -> Result<&'a Session, Box<Response>> {
    super::signed_in(v, here).map_err(|r| Box::new(r.into_response()))?;
    v.session.as_ref().ok_or_else(|| {
        Box::new(PageError::from_core(CoreError::Unauthenticated, v).into_response())
    })
}

/// A refusal beside the field at fault: the core names a field for its validation rules
/// (`lessons.title_fr` is the lesson form's `title_fr`); the training rules are placed here.
fn refused(e: CoreError, v: &Visitor) -> Result<FieldRefusal, Box<Response>> {
    let code = match &e {
        CoreError::Training(r) => Some(r.code()),
        _ => None,
    };
    let mut r = field_refusal(e, v)?;
    if let Some((_, field)) = r.field.split_once('.') {
        r.field = field.to_owned();
    }
    if r.field.is_empty() {
        r.field = match code {
            Some("pass_mark_out_of_range") => "pass_mark",
            Some("quiz_after_unknown_lesson") => "after_lesson",
            Some("course_audience_incomplete") | Some("course_audience_visibility_locked") => {
                "audience"
            }
            Some("quiz_without_correct_answer") | Some("single_choice_with_several_answers") => {
                "choices"
            }
            Some("prerequisite_cycle")
            | Some("prerequisite_not_published")
            | Some("builtin_course_prerequisites") => "prerequisites",
            _ => "",
        }
        .to_owned();
    }
    Ok(r)
}

/// A number field that does not read as one.
fn not_a_number(v: &Visitor, field: &str) -> FieldRefusal {
    FieldRefusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        field: field.to_owned(),
        why: v.words.invalid("invalid"),
    }
}

/// An optional number: empty is none.
fn optional<T: std::str::FromStr>(text: &str) -> Result<Option<T>, ()> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_number(text).map(Some).ok_or(())
}

// ---------------------------------------------------------------------------------------
// A new course

#[derive(Deserialize, Default)]
pub struct NewCourseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title_fr: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    summary_fr: String,
    #[serde(default)]
    summary_en: String,
    #[serde(default)]
    group_name: String,
}

#[derive(Template)]
#[template(path = "course_new.html")]
struct NewCoursePage {
    c: Chrome,
    form: NewCourseForm,
    refusal: FieldRefusal,
}

pub async fn new_form(v: Visitor) -> Response {
    let session = match reader(&v, "/courses/new") {
        Ok(s) => s,
        Err(to) => return *to,
    };
    // A member is told at once, not after filling the form in.
    if let Err(e) =
        cenacle_core::caller::require(session, cenacle_domain::Permission::ManageTraining)
    {
        return PageError::from_core(e, &v).into_response();
    }
    page(
        &v,
        StatusCode::OK,
        &NewCoursePage {
            c: Chrome::of(&v, "/courses/new"),
            form: NewCourseForm::default(),
            refusal: FieldRefusal::default(),
        },
    )
}

/// Writes a draft with its texts and its discussion group; on to its editor.
pub async fn create(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<NewCourseForm>,
) -> Response {
    let session = match trainer(&v, "/courses/new", &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let input = CourseInput {
        title_fr: form.title_fr.clone(),
        title_en: form.title_en.clone(),
        summary_fr: form.summary_fr.clone(),
        summary_en: form.summary_en.clone(),
        cover_media_id: None,
        published: false,
        audience: "everyone".into(),
        audience_group: None,
        audience_reputation: None,
        audience_badge: None,
        validity_days: None,
        unlock_group: None,
        prerequisites: vec![],
        group_name: form.group_name.trim().to_owned(),
        lessons: vec![],
        quizzes: vec![],
    };
    let written = async {
        let prepared = courses::prepare_course(&state.ctx, session, input).await?;
        let prepared = &prepared;
        state
            .ctx
            .transaction(|conn| courses::create_course(conn, session, prepared).scope_boxed())
            .await
    }
    .await;
    match written {
        Ok(course) => see_other(&format!("/courses/{}/edit", course.row.id), vec![]),
        Err(e) => match refused(e, &v) {
            Ok(mut refusal) => {
                // The group's name is checked as any group's (`name`).
                if refusal.field == "name" {
                    refusal.field = "group_name".into();
                }
                page(
                    &v,
                    refusal.status,
                    &NewCoursePage {
                        c: Chrome::of(&v, "/courses/new"),
                        form,
                        refusal,
                    },
                )
            }
            Err(page) => *page,
        },
    }
}

// ---------------------------------------------------------------------------------------
// A course's editor

/// The course's fields as the form shows them (what was typed, after a refusal).
#[derive(Default, Clone)]
pub struct CourseFields {
    title_fr: String,
    title_en: String,
    summary_fr: String,
    summary_en: String,
    audience: String,
    audience_group: String,
    audience_reputation: String,
    audience_badge: String,
    validity_days: String,
    /// The required courses' ids, as ticked.
    prerequisites: Vec<i64>,
}

/// The lesson or quiz being added, kept after a refusal.
#[derive(Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title_fr: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    pass_mark: String,
    #[serde(default)]
    max_attempts: String,
    #[serde(default)]
    cool_down_seconds: String,
    #[serde(default)]
    after_lesson: String,
}

pub struct LessonItem {
    id: i64,
    position: i32,
    title: String,
    minutes: i32,
}

pub struct QuizItem {
    id: i64,
    title: String,
    pass_mark: i32,
}

#[derive(Template)]
#[template(path = "course_edit.html")]
struct CourseEditPage {
    c: Chrome,
    id: i64,
    title: String,
    published: bool,
    /// A built-in course: it requires no other.
    builtin: bool,
    cover: Option<String>,
    fields: CourseFields,
    /// The courses this one may require, as (id, title): the other published ones, and those
    /// it requires already.
    requirable: Vec<(i64, String)>,
    lessons: Vec<LessonItem>,
    quizzes: Vec<QuizItem>,
    course_refusal: FieldRefusal,
    publish_refusal: FieldRefusal,
    lesson_form: AddForm,
    lesson_refusal: FieldRefusal,
    quiz_form: AddForm,
    quiz_refusal: FieldRefusal,
    /// Saved: say so.
    saved: bool,
}

impl CourseEditPage {
    fn audiences(&self) -> Vec<(&'static str, String, bool)> {
        ["everyone", "group", "reputation", "badge"]
            .into_iter()
            .map(|a| {
                (
                    a,
                    self.c.t.t(&format!("course-audience-{a}")),
                    a == self.fields.audience,
                )
            })
            .collect()
    }

    /// The courses it may require, as (id, title, ticked).
    fn prerequisite_choices(&self) -> Vec<(i64, &str, bool)> {
        self.requirable
            .iter()
            .map(|(id, title)| (*id, title.as_str(), self.fields.prerequisites.contains(id)))
            .collect()
    }
}

/// The courses `row` may require, as (id, title): the newest published ones, and those it
/// requires already. The list is the newest courses only: a prerequisite older than them
/// still gets its box (ticked), or saving the page for any other change would drop it.
async fn requirable_courses(
    conn: &mut cenacle_core::Conn,
    v: &Visitor,
    session: &Session,
    row: &cenacle_core::model::CourseRow,
) -> Result<Vec<(i64, String)>, CoreError> {
    Ok(courses::requirable_courses(conn, session, row)
        .await?
        .into_iter()
        .map(|c| (c.id, v.words.pick(c.title_fr, c.title_en)))
        .collect())
}

/// What the editor shows, the refusals and kept fields set by the caller.
async fn editor(
    state: &AppState,
    v: &Visitor,
    session: &Session,
    id: i64,
) -> Result<CourseEditPage, CoreError> {
    let mut conn = state.ctx.conn().await?;
    let draft = authoring::course_for_editing(&mut conn, session, id).await?;
    let course = &draft.course;
    let cover = courses::cover_files(&mut conn, std::slice::from_ref(&course.row))
        .await?
        .into_iter()
        .next()
        .map(|(_, file)| format!("/media/{file}"));
    let row = &course.row;
    let audience_group = draft.audience_group.clone().unwrap_or_default();
    let audience_badge = draft.audience_badge.clone().unwrap_or_default();
    let requirable = if row.builtin.is_some() {
        // A built-in course requires nothing (`builtin_course_prerequisites`): no boxes.
        Vec::new()
    } else {
        requirable_courses(&mut conn, v, session, row).await?
    };
    Ok(CourseEditPage {
        c: Chrome::of(v, &format!("/courses/{id}/edit")),
        id,
        title: v.words.pick(&row.title_fr, &row.title_en).to_owned(),
        published: row.published,
        builtin: row.builtin.is_some(),
        cover,
        fields: CourseFields {
            title_fr: row.title_fr.clone(),
            title_en: row.title_en.clone(),
            summary_fr: row.summary_fr.clone(),
            summary_en: row.summary_en.clone(),
            audience: row.audience.clone(),
            audience_group,
            audience_reputation: row
                .audience_reputation
                .map(|r| r.to_string())
                .unwrap_or_default(),
            audience_badge,
            validity_days: row.validity_days.map(|d| d.to_string()).unwrap_or_default(),
            prerequisites: row.prerequisites.clone(),
        },
        requirable,
        lessons: course
            .lessons
            .iter()
            .map(|l| LessonItem {
                id: l.id,
                position: l.position,
                title: v.words.pick(&l.title_fr, &l.title_en).to_owned(),
                minutes: l.minutes,
            })
            .collect(),
        quizzes: course
            .quizzes
            .iter()
            .map(|q| QuizItem {
                id: q.id,
                title: v.words.pick(&q.title_fr, &q.title_en).to_owned(),
                pass_mark: q.pass_mark,
            })
            .collect(),
        course_refusal: FieldRefusal::default(),
        publish_refusal: FieldRefusal::default(),
        lesson_form: AddForm {
            minutes: "10".into(),
            ..AddForm::default()
        },
        lesson_refusal: FieldRefusal::default(),
        quiz_form: AddForm {
            pass_mark: "80".into(),
            cool_down_seconds: "0".into(),
            ..AddForm::default()
        },
        quiz_refusal: FieldRefusal::default(),
        saved: false,
    })
}

/// The editor again, changed by `adjust` (a refusal and what was typed), or the error page.
async fn editor_again(
    state: &AppState,
    v: &Visitor,
    session: &Session,
    id: i64,
    status: StatusCode,
    adjust: impl FnOnce(&mut CourseEditPage),
) -> Response {
    match editor(state, v, session, id).await {
        Ok(mut shown) => {
            adjust(&mut shown);
            page(v, status, &shown)
        }
        Err(e) => PageError::from_core(e, v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn edit_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    axum::extract::Query(saved): axum::extract::Query<Saved>,
) -> Response {
    let session = match reader(&v, &format!("/courses/{id}/edit")) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    editor_again(&state, &v, session, id, StatusCode::OK, |p| {
        p.saved = saved.saved.is_some()
    })
    .await
}

/// An editor's multipart form as read (the course's, the lesson's).
struct CourseForm {
    fields: HashMap<String, String>,
    /// The ticked prerequisites (a name repeated once per box).
    prerequisites: Vec<String>,
    /// The image (cover, or the lesson's), if one was chosen, with its declared type.
    upload: Option<(String, Vec<u8>)>,
    /// Whether the whole form was read (not cut short by a file too large).
    complete: bool,
}

/// An editor's multipart form: its text fields, its ticked prerequisites, and the image of
/// the file field `file_field` if one was chosen.
async fn read_course_form(mut multipart: Multipart, file_field: &str) -> CourseForm {
    let mut form = CourseForm {
        fields: HashMap::new(),
        prerequisites: Vec::new(),
        upload: None,
        complete: false,
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => {
                form.complete = true;
                return form;
            }
            Err(_) => return form,
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            let has_file = field.file_name().is_some_and(|n| !n.is_empty());
            let content_type = field.content_type().unwrap_or_default().to_owned();
            match field.bytes().await {
                Ok(bytes) if has_file && !bytes.is_empty() => {
                    form.upload = Some((content_type, bytes.to_vec()))
                }
                Ok(_) => {}
                Err(_) => return form,
            }
            continue;
        }
        match field.text().await {
            Ok(value) if name == "prerequisites" => form.prerequisites.push(value),
            Ok(value) => {
                form.fields.insert(name, value);
            }
            Err(_) => return form,
        }
    }
}

/// Saves the course's texts, audience, validity, prerequisites and cover (an image sent
/// replaces it; the cover's alt text is the course's title).
pub async fn save(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Response {
    let CourseForm {
        fields,
        prerequisites,
        upload,
        complete,
    } = read_course_form(multipart, "cover").await;
    let here = format!("/courses/{id}/edit");
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let session = match trainer(&v, &here, &field("csrf")) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let typed = CourseFields {
        title_fr: field("title_fr"),
        title_en: field("title_en"),
        summary_fr: field("summary_fr"),
        summary_en: field("summary_en"),
        audience: field("audience"),
        audience_group: field("audience_group"),
        audience_reputation: field("audience_reputation"),
        audience_badge: field("audience_badge"),
        validity_days: field("validity_days"),
        // The boxes' values are the pages' own ids: one that is not a number is dropped.
        prerequisites: prerequisites
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect(),
    };
    let again = |refusal: FieldRefusal, typed: CourseFields| {
        let status = refusal.status;
        editor_again(&state, &v, session, id, status, move |p| {
            p.fields = typed;
            p.course_refusal = refusal;
        })
    };
    if !complete {
        let refusal = FieldRefusal {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            field: "cover".into(),
            why: v.words.invalid("file_too_large"),
        };
        return again(refusal, typed).await;
    }
    let Ok(validity_days) = optional::<i32>(&typed.validity_days) else {
        return again(not_a_number(&v, "validity_days"), typed).await;
    };
    let Ok(audience_reputation) = optional::<i64>(&typed.audience_reputation) else {
        return again(not_a_number(&v, "audience_reputation"), typed).await;
    };
    // A member is told before an upload is stored for nothing.
    if let Err(e) = cenacle_core::caller::require(session, Permission::ManageTraining) {
        return PageError::from_core(e, &v).into_response();
    }
    // The cover changes only when one is sent or removed: the form does not carry it.
    let mut cover = fields.contains_key("remove_cover").then_some(None);
    if let Some((content_type, bytes)) = upload {
        let caller = cenacle_core::Caller::from(session);
        let alt = typed.title_fr.trim().to_owned();
        match store_upload(&state, &caller, &content_type, bytes, Some(&alt)).await {
            Ok(stored) => cover = Some(Some(stored.id)),
            Err(e) => {
                let refusal = match refused(e, &v) {
                    Ok(mut r) => {
                        r.field = "cover".into();
                        r
                    }
                    Err(page) => return *page,
                };
                return again(refusal, typed).await;
            }
        }
    }
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    // The form shows every other field: each is sent as it stands (empty clears).
    let input = CourseEditInput {
        title_fr: Some(typed.title_fr.clone()),
        title_en: Some(typed.title_en.clone()),
        summary_fr: Some(typed.summary_fr.clone()),
        summary_en: Some(typed.summary_en.clone()),
        cover_media_id: cover,
        audience: Some(if typed.audience.is_empty() {
            "everyone".into()
        } else {
            typed.audience.clone()
        }),
        audience_group: Some(text(&typed.audience_group)),
        audience_reputation: Some(audience_reputation),
        audience_badge: Some(text(&typed.audience_badge)),
        validity_days: Some(validity_days),
        prerequisites: Some(typed.prerequisites.clone()),
    };
    let input = &input;
    let saved = state
        .ctx
        .transaction(|conn| authoring::edit_course(conn, session, id, input).scope_boxed())
        .await;
    match saved {
        Ok(_) => see_other(&format!("{here}?saved=1"), vec![]),
        Err(e) => match refused(e, &v) {
            Ok(mut r) => {
                if r.field == "cover_media_id" {
                    r.field = "cover".into();
                }
                again(r, typed).await
            }
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    published: String,
}

/// Publishes (or withdraws) the course; a course not ready says why above the button.
pub async fn publish(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<PublishForm>,
) -> Response {
    let here = format!("/courses/{id}/edit");
    let session = match trainer(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let published = form.published == "true";
    let done = state
        .ctx
        .transaction(|conn| courses::set_published(conn, session, id, published).scope_boxed())
        .await;
    match done {
        Ok(()) => see_other(&here, vec![]),
        Err(e) => match refused(e, &v) {
            Ok(r) => {
                editor_again(&state, &v, session, id, r.status, |p| p.publish_refusal = r).await
            }
            Err(page) => *page,
        },
    }
}

/// Adds a lesson (titles and time; its text in its own editor, where this leads).
pub async fn add_lesson(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<AddForm>,
) -> Response {
    let here = format!("/courses/{id}/edit");
    let session = match trainer(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let Ok(Some(minutes)) = optional::<i32>(&form.minutes) else {
        let r = not_a_number(&v, "minutes");
        return editor_again(&state, &v, session, id, r.status, |p| {
            p.lesson_refusal = r;
            p.lesson_form = form;
        })
        .await;
    };
    let lesson = LessonInput {
        position: 0,
        title_fr: form.title_fr.clone(),
        title_en: form.title_en.clone(),
        body_fr: String::new(),
        body_en: String::new(),
        minutes,
    };
    let lesson = &lesson;
    let added = state
        .ctx
        .transaction(|conn| authoring::add_lesson(conn, session, id, lesson).scope_boxed())
        .await;
    match added {
        Ok(row) => see_other(&format!("/lessons/{}/edit", row.id), vec![]),
        Err(e) => match refused(e, &v) {
            Ok(r) => {
                editor_again(&state, &v, session, id, r.status, |p| {
                    p.lesson_refusal = r;
                    p.lesson_form = form;
                })
                .await
            }
            Err(page) => *page,
        },
    }
}

/// A quiz's settings as typed, read into the core's input (or the field that is no number).
fn quiz_settings(v: &Visitor, form: &AddForm) -> Result<QuizSettingsInput, FieldRefusal> {
    let Ok(Some(pass_mark)) = optional::<i32>(&form.pass_mark) else {
        return Err(not_a_number(v, "pass_mark"));
    };
    let max_attempts =
        optional::<i32>(&form.max_attempts).map_err(|_| not_a_number(v, "max_attempts"))?;
    let cool_down_seconds = optional::<i32>(&form.cool_down_seconds)
        .map_err(|_| not_a_number(v, "cool_down_seconds"))?
        .unwrap_or(0);
    let after_lesson =
        optional::<i32>(&form.after_lesson).map_err(|_| not_a_number(v, "after_lesson"))?;
    Ok(QuizSettingsInput {
        after_lesson,
        title_fr: form.title_fr.clone(),
        title_en: form.title_en.clone(),
        pass_mark,
        max_attempts,
        cool_down_seconds,
    })
}

/// Adds a quiz (its settings; its questions in its own editor, where this leads).
pub async fn add_quiz(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<AddForm>,
) -> Response {
    let here = format!("/courses/{id}/edit");
    let session = match trainer(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    // A refusal, whether the form's or the core's, shows beside its field.
    let added = match quiz_settings(&v, &form) {
        Ok(settings) => {
            let settings = &settings;
            state
                .ctx
                .transaction(|conn| authoring::add_quiz(conn, session, id, settings).scope_boxed())
                .await
                .map_err(|e| refused(e, &v))
        }
        Err(r) => Err(Ok(r)),
    };
    match added {
        Ok(row) => see_other(&format!("/quizzes/{}/edit", row.id), vec![]),
        Err(Ok(r)) => {
            editor_again(&state, &v, session, id, r.status, |p| {
                p.quiz_refusal = r;
                p.quiz_form = form;
            })
            .await
        }
        Err(Err(page)) => *page,
    }
}

// ---------------------------------------------------------------------------------------
// A lesson's editor

#[derive(Deserialize, Default)]
pub struct LessonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title_fr: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    body_fr: String,
    #[serde(default)]
    body_en: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    action: String,
    /// The alt text of the image or video chosen with the form, for each text's readers.
    #[serde(default)]
    image_alt_fr: String,
    #[serde(default)]
    image_alt_en: String,
}

#[derive(Template)]
#[template(path = "lesson_edit.html")]
struct LessonEditPage {
    c: Chrome,
    id: i64,
    course: i64,
    position: i32,
    form: LessonForm,
    /// After "preview": the bodies as learners will read them.
    preview: Option<(String, String)>,
    refusal: FieldRefusal,
    saved: bool,
}

async fn lesson_page(
    state: &AppState,
    v: &Visitor,
    session: &Session,
    id: i64,
) -> Result<LessonEditPage, CoreError> {
    let mut conn = state.ctx.conn().await?;
    let lesson = courses::lesson(&mut conn, Some(&cenacle_core::Caller::from(session)), id).await?;
    // Only trainers edit: the course's editor says so for the others.
    authoring::course_for_editing(&mut conn, session, lesson.course_id).await?;
    Ok(LessonEditPage {
        c: Chrome::of(v, &format!("/lessons/{id}/edit")),
        id,
        course: lesson.course_id,
        position: lesson.position,
        form: LessonForm {
            title_fr: lesson.title_fr,
            title_en: lesson.title_en,
            body_fr: lesson.body_fr,
            body_en: lesson.body_en,
            minutes: lesson.minutes.to_string(),
            ..LessonForm::default()
        },
        preview: None,
        refusal: FieldRefusal::default(),
        saved: false,
    })
}

pub async fn lesson_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    axum::extract::Query(saved): axum::extract::Query<Saved>,
) -> Response {
    let session = match reader(&v, &format!("/lessons/{id}/edit")) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    match lesson_page(&state, &v, session, id).await {
        Ok(mut shown) => {
            shown.saved = saved.saved.is_some();
            page(&v, StatusCode::OK, &shown)
        }
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

/// `alt` as Markdown image text: the characters Markdown reads inside it escaped (a `]`
/// would end it, a `*` start emphasis, a `&` an entity), line breaks as spaces.
fn markdown_alt(alt: &str) -> String {
    let mut escaped = String::with_capacity(alt.len());
    for ch in alt.trim().chars() {
        match ch {
            '\r' | '\n' => escaped.push(' '),
            c if "\\[]*_`!<>&~|".contains(c) => {
                escaped.push('\\');
                escaped.push(c);
            }
            c => escaped.push(c),
        }
    }
    escaped
}

/// `body` with the Markdown image `line` appended as its own paragraph.
fn with_image(body: &str, line: &str) -> String {
    let kept = body.trim_end();
    if kept.is_empty() {
        line.to_owned()
    } else {
        format!("{kept}\n\n{line}")
    }
}

/// Saves the lesson, or shows its preview with everything typed kept. An image or a video
/// chosen with the form (its alt text required) is stored as the course's cover is, and
/// appended to both texts as a Markdown image (a video plays where lessons are shown); a
/// refused file saves nothing and keeps what was typed.
pub async fn save_lesson(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Response {
    let CourseForm {
        fields,
        upload,
        complete,
        ..
    } = read_course_form(multipart, "image").await;
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let mut form = LessonForm {
        csrf: field("csrf"),
        title_fr: field("title_fr"),
        title_en: field("title_en"),
        body_fr: field("body_fr"),
        body_en: field("body_en"),
        minutes: field("minutes"),
        action: field("action"),
        image_alt_fr: field("image_alt_fr"),
        image_alt_en: field("image_alt_en"),
    };
    let here = format!("/lessons/{id}/edit");
    let session = match trainer(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let mut shown = match lesson_page(&state, &v, session, id).await {
        Ok(s) => s,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let again = |mut shown: LessonEditPage, refusal: FieldRefusal, form: LessonForm| {
        let status = refusal.status;
        shown.refusal = refusal;
        shown.form = form;
        page(&v, status, &shown)
    };
    if !complete {
        let refusal = FieldRefusal {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            field: "image".into(),
            why: v.words.invalid("file_too_large"),
        };
        return again(shown, refusal, form);
    }
    // Each text's readers get the description in its language.
    let alts = [
        ("image_alt_fr", form.image_alt_fr.trim()),
        ("image_alt_en", form.image_alt_en.trim()),
    ];
    let missing: Vec<_> = alts.iter().filter(|(_, alt)| alt.is_empty()).collect();
    let too_long = alts
        .iter()
        .find(|(_, alt)| alt.chars().count() > cenacle_core::media::MAX_DESCRIPTION_CHARS);
    let alt_refusal = match (upload.is_some(), missing.as_slice(), too_long) {
        // Both told at once: the file is chosen again for each refusal.
        (true, [_, _], _) => Some(("image_alt_fr", v.words.t("lesson-image-alts-required"))),
        (true, [(field, _)], _) => Some((*field, v.words.t("lesson-image-alt-required"))),
        (true, [], Some((field, _))) => Some((*field, v.words.invalid("too_long"))),
        _ => None,
    };
    if let Some((field, why)) = alt_refusal {
        let refusal = FieldRefusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: field.into(),
            why,
        };
        return again(shown, refusal, form);
    }
    let preview = form.action == "preview";
    let minutes = optional::<i32>(&form.minutes);
    // A lesson that cannot be saved is told before an image is stored for nothing.
    if !preview && !matches!(minutes, Ok(Some(_))) {
        return again(shown, not_a_number(&v, "minutes"), form);
    }
    if let Some((content_type, bytes)) = upload {
        let caller = cenacle_core::Caller::from(session);
        // The upload keeps the description in the trainer's language (it is read only here).
        let (alt_fr, alt_en) = (form.image_alt_fr.trim(), form.image_alt_en.trim());
        let (alt_field, alt) = v
            .words
            .pick(("image_alt_fr", alt_fr), ("image_alt_en", alt_en));
        let stored = store_upload(&state, &caller, &content_type, bytes, Some(alt)).await;
        match stored {
            Ok(stored) => {
                // From here the file is in the texts: a later refusal keeps it there.
                let line =
                    |alt: &str| format!("![{}](/media/{})", markdown_alt(alt), stored.file_name);
                form.body_fr = with_image(&form.body_fr, &line(alt_fr));
                form.body_en = with_image(&form.body_en, &line(alt_en));
                form.image_alt_fr.clear();
                form.image_alt_en.clear();
            }
            Err(CoreError::TooLarge(_)) => {
                let refusal = FieldRefusal {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    field: "image".into(),
                    why: v.words.invalid("file_too_large"),
                };
                return again(shown, refusal, form);
            }
            // The shared message names images only; this field takes videos too.
            Err(CoreError::Validation(e)) if e.code == "unsupported_type" => {
                let refusal = FieldRefusal {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    field: "image".into(),
                    why: v.words.t("lesson-media-unsupported"),
                };
                return again(shown, refusal, form);
            }
            Err(e) => {
                let refusal = match refused(e, &v) {
                    Ok(mut r) => {
                        r.field = if r.field == "description" {
                            alt_field
                        } else {
                            "image"
                        }
                        .into();
                        r
                    }
                    Err(page) => return *page,
                };
                return again(shown, refusal, form);
            }
        }
    }
    if preview {
        shown.preview = Some((
            markdown_to_page_html(&form.body_fr),
            markdown_to_page_html(&form.body_en),
        ));
        shown.form = form;
        return page(&v, StatusCode::OK, &shown);
    }
    let Ok(Some(minutes)) = minutes else {
        return again(shown, not_a_number(&v, "minutes"), form);
    };
    let lesson = LessonInput {
        position: 0,
        title_fr: form.title_fr.clone(),
        title_en: form.title_en.clone(),
        body_fr: form.body_fr.clone(),
        body_en: form.body_en.clone(),
        minutes,
    };
    let lesson = &lesson;
    let saved = state
        .ctx
        .transaction(|conn| authoring::edit_lesson(conn, session, id, lesson).scope_boxed())
        .await;
    match saved {
        Ok(_) => see_other(&format!("{here}?saved=1"), vec![]),
        Err(e) => match refused(e, &v) {
            Ok(r) => again(shown, r, form),
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize)]
pub struct LessonAction {
    #[serde(default)]
    csrf: String,
}

/// Moves a lesson one place up (the first stays first).
pub async fn lesson_up(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<LessonAction>,
) -> Response {
    let session = match trainer(&v, &format!("/lessons/{id}/edit"), &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let moved = state
        .ctx
        .transaction(|conn| authoring::move_lesson_up(conn, session, id).scope_boxed())
        .await;
    match moved {
        Ok(course) => see_other(&format!("/courses/{course}/edit"), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

pub async fn delete_lesson(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<LessonAction>,
) -> Response {
    let session = match trainer(&v, &format!("/lessons/{id}/edit"), &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let deleted = state
        .ctx
        .transaction(|conn| authoring::delete_lesson(conn, session, id).scope_boxed())
        .await;
    match deleted {
        Ok(course) => see_other(&format!("/courses/{course}/edit"), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// A quiz's editor

/// A question as typed: its texts, answers and four choice rows.
#[derive(Default, Clone)]
pub struct QuestionFields {
    kind: String,
    prompt_fr: String,
    prompt_en: String,
    explanation_fr: String,
    explanation_en: String,
    numeric_answer: String,
    numeric_tolerance: String,
    /// (label fr, label en, correct)
    choices: Vec<(String, String, bool)>,
}

/// How many choice rows the question form offers.
const CHOICE_ROWS: usize = 4;

impl QuestionFields {
    fn blank() -> QuestionFields {
        QuestionFields {
            kind: "single".into(),
            numeric_tolerance: "0".into(),
            choices: vec![(String::new(), String::new(), false); CHOICE_ROWS],
            ..QuestionFields::default()
        }
    }

    /// A saved question, to rewrite it (with a blank row or more to add choices).
    fn of(question: &QuestionRow, choices: &[ChoiceRow]) -> QuestionFields {
        let mut rows: Vec<(String, String, bool)> = choices
            .iter()
            .map(|c| (c.label_fr.clone(), c.label_en.clone(), c.correct))
            .collect();
        let wanted = (rows.len() + 1).max(CHOICE_ROWS);
        rows.resize(wanted, (String::new(), String::new(), false));
        QuestionFields {
            kind: question.kind.clone(),
            prompt_fr: question.prompt_fr.clone(),
            prompt_en: question.prompt_en.clone(),
            explanation_fr: question.explanation_fr.clone(),
            explanation_en: question.explanation_en.clone(),
            numeric_answer: question
                .numeric_answer
                .map(|a| a.to_string())
                .unwrap_or_default(),
            numeric_tolerance: question.numeric_tolerance.to_string(),
            choices: rows,
        }
    }

    /// The form's fields: `label_fr_N`, `label_en_N` and `correct` (repeated, N) per row.
    fn read(fields: &[(String, String)]) -> QuestionFields {
        let one = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        // As many rows as the form showed (at least the new question's).
        let rows = fields
            .iter()
            .filter(|(k, _)| k.starts_with("label_fr_"))
            .count()
            .max(CHOICE_ROWS);
        let correct: Vec<&str> = fields
            .iter()
            .filter(|(k, _)| k == "correct")
            .map(|(_, v)| v.as_str())
            .collect();
        QuestionFields {
            kind: one("kind"),
            prompt_fr: one("prompt_fr"),
            prompt_en: one("prompt_en"),
            explanation_fr: one("explanation_fr"),
            explanation_en: one("explanation_en"),
            numeric_answer: one("numeric_answer"),
            numeric_tolerance: one("numeric_tolerance"),
            choices: (1..=rows)
                .map(|n| {
                    (
                        one(&format!("label_fr_{n}")),
                        one(&format!("label_en_{n}")),
                        correct.contains(&n.to_string().as_str()),
                    )
                })
                .collect(),
        }
    }

    /// The core's input: rows left blank are no choice; a label typed in one language only
    /// serves both.
    fn input(&self, v: &Visitor) -> Result<QuestionInput, FieldRefusal> {
        let numeric_answer =
            optional::<f64>(&self.numeric_answer).map_err(|_| not_a_number(v, "numeric_answer"))?;
        let numeric_tolerance = optional::<f64>(&self.numeric_tolerance)
            .map_err(|_| not_a_number(v, "numeric_tolerance"))?
            .unwrap_or(0.0);
        let numeric = self.kind == "numeric";
        Ok(QuestionInput {
            kind: self.kind.clone(),
            prompt_fr: self.prompt_fr.clone(),
            prompt_en: self.prompt_en.clone(),
            explanation_fr: self.explanation_fr.clone(),
            explanation_en: self.explanation_en.clone(),
            numeric_answer: numeric_answer.filter(|_| numeric),
            numeric_tolerance,
            choices: if numeric {
                vec![]
            } else {
                self.choices
                    .iter()
                    .filter(|(fr, en, _)| !fr.trim().is_empty() || !en.trim().is_empty())
                    .map(|(fr, en, correct)| {
                        let fr = if fr.trim().is_empty() { en } else { fr };
                        let en = if en.trim().is_empty() { fr } else { en };
                        ChoiceInput {
                            label_fr: fr.clone(),
                            label_en: en.clone(),
                            correct: *correct,
                        }
                    })
                    .collect()
            },
        })
    }
}

pub struct ChoiceShown {
    label: String,
    correct: bool,
}

pub struct QuestionShown {
    id: i64,
    position: i32,
    kind: String,
    prompt: String,
    explanation: String,
    choices: Vec<ChoiceShown>,
    numeric: Option<(f64, f64)>,
}

#[derive(Template)]
#[template(path = "quiz_edit.html")]
struct QuizEditPage {
    c: Chrome,
    id: i64,
    course: i64,
    course_title: String,
    published: bool,
    attempted: bool,
    settings: AddForm,
    /// (position, title) of the course's lessons, to place the quiz after one.
    lessons: Vec<(i32, String)>,
    settings_refusal: FieldRefusal,
    questions: Vec<QuestionShown>,
    question: QuestionFields,
    question_refusal: FieldRefusal,
    saved: bool,
}

/// A question's refusal beside its field: a numeric question's missing answer is its number,
/// not a choice.
fn question_refused(
    e: CoreError,
    v: &Visitor,
    typed: &QuestionFields,
) -> Result<FieldRefusal, Box<Response>> {
    let mut r = refused(e, v)?;
    if r.field == "choices" && typed.kind == "numeric" {
        r.field = "numeric_answer".into();
    }
    Ok(r)
}

/// The kinds of question, in the visitor's words, `chosen` selected.
fn kinds(c: &Chrome, chosen: &str) -> Vec<(&'static str, String, bool)> {
    ["single", "multiple", "numeric"]
        .into_iter()
        .map(|k| (k, c.t.t(&format!("question-kind-{k}")), k == chosen))
        .collect()
}

impl QuizEditPage {
    fn kinds(&self) -> Vec<(&'static str, String, bool)> {
        kinds(&self.c, &self.question.kind)
    }

    fn after(&self, position: &i32) -> bool {
        self.settings.after_lesson == position.to_string()
    }
}

async fn quiz_page(
    state: &AppState,
    v: &Visitor,
    session: &Session,
    id: i64,
) -> Result<QuizEditPage, CoreError> {
    let mut conn = state.ctx.conn().await?;
    let draft = authoring::quiz_draft(&mut conn, session, id).await?;
    let lessons = &draft.lessons;
    let q = &draft.quiz;
    Ok(QuizEditPage {
        c: Chrome::of(v, &format!("/quizzes/{id}/edit")),
        id,
        course: draft.course.id,
        course_title: v
            .words
            .pick(&draft.course.title_fr, &draft.course.title_en)
            .to_owned(),
        published: draft.course.published,
        attempted: draft.attempted,
        settings: AddForm {
            title_fr: q.title_fr.clone(),
            title_en: q.title_en.clone(),
            pass_mark: q.pass_mark.to_string(),
            max_attempts: q.max_attempts.map(|m| m.to_string()).unwrap_or_default(),
            cool_down_seconds: q.cool_down_seconds.to_string(),
            after_lesson: q.after_lesson.map(|a| a.to_string()).unwrap_or_default(),
            ..AddForm::default()
        },
        lessons: lessons
            .iter()
            .map(|l| {
                (
                    l.position,
                    v.words.pick(&l.title_fr, &l.title_en).to_owned(),
                )
            })
            .collect(),
        settings_refusal: FieldRefusal::default(),
        questions: draft
            .questions
            .iter()
            .map(|(q, choices)| QuestionShown {
                id: q.id,
                position: q.position,
                kind: v.words.t(&format!("question-kind-{}", q.kind)),
                prompt: v.words.pick(&q.prompt_fr, &q.prompt_en).to_owned(),
                explanation: v
                    .words
                    .pick(&q.explanation_fr, &q.explanation_en)
                    .to_owned(),
                choices: choices
                    .iter()
                    .map(|c| ChoiceShown {
                        label: v.words.pick(&c.label_fr, &c.label_en).to_owned(),
                        correct: c.correct,
                    })
                    .collect(),
                numeric: q.numeric_answer.map(|a| (a, q.numeric_tolerance)),
            })
            .collect(),
        question: QuestionFields::blank(),
        question_refusal: FieldRefusal::default(),
        saved: false,
    })
}

async fn quiz_again(
    state: &AppState,
    v: &Visitor,
    session: &Session,
    id: i64,
    status: StatusCode,
    adjust: impl FnOnce(&mut QuizEditPage),
) -> Response {
    match quiz_page(state, v, session, id).await {
        Ok(mut shown) => {
            adjust(&mut shown);
            page(v, status, &shown)
        }
        Err(e) => PageError::from_core(e, v).into_response(),
    }
}

pub async fn quiz_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    axum::extract::Query(saved): axum::extract::Query<Saved>,
) -> Response {
    let session = match reader(&v, &format!("/quizzes/{id}/edit")) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    quiz_again(&state, &v, session, id, StatusCode::OK, |p| {
        p.saved = saved.saved.is_some()
    })
    .await
}

/// Saves a quiz's settings.
pub async fn save_quiz(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<AddForm>,
) -> Response {
    let here = format!("/quizzes/{id}/edit");
    let session = match trainer(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let saved = match quiz_settings(&v, &form) {
        Ok(settings) => {
            let settings = &settings;
            state
                .ctx
                .transaction(|conn| authoring::edit_quiz(conn, session, id, settings).scope_boxed())
                .await
                .map_err(|e| refused(e, &v))
        }
        Err(r) => Err(Ok(r)),
    };
    match saved {
        Ok(_) => see_other(&format!("{here}?saved=1"), vec![]),
        Err(Ok(r)) => {
            quiz_again(&state, &v, session, id, r.status, |p| {
                p.settings_refusal = r;
                p.settings = form;
            })
            .await
        }
        Err(Err(page)) => *page,
    }
}

/// Adds a question; a refusal shows beside its field with the question kept.
pub async fn add_question(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let here = format!("/quizzes/{id}/edit");
    let session = match trainer(&v, &here, &csrf_of(&fields)) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let typed = QuestionFields::read(&fields);
    let added = match typed.input(&v) {
        Ok(input) => {
            let input = &input;
            state
                .ctx
                .transaction(|conn| authoring::add_question(conn, session, id, input).scope_boxed())
                .await
                .map_err(|e| question_refused(e, &v, &typed))
        }
        Err(r) => Err(Ok(r)),
    };
    match added {
        Ok(_) => see_other(&format!("{here}#questions"), vec![]),
        Err(Ok(r)) => {
            quiz_again(&state, &v, session, id, r.status, |p| {
                p.question_refusal = r;
                p.question = typed;
            })
            .await
        }
        Err(Err(page)) => *page,
    }
}

/// Deletes a question (a draft's, of a quiz nobody attempted); a refusal shows on the quiz.
pub async fn delete_question(
    State(state): State<AppState>,
    v: Visitor,
    Path((quiz, id)): Path<(i64, i64)>,
    Form(form): Form<LessonAction>,
) -> Response {
    let here = format!("/quizzes/{quiz}/edit");
    let session = match trainer(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let deleted = state
        .ctx
        .transaction(|conn| authoring::delete_question(conn, session, id).scope_boxed())
        .await;
    match deleted {
        Ok(()) => see_other(&format!("{here}#questions"), vec![]),
        Err(e) => match refused(e, &v) {
            Ok(r) => {
                quiz_again(&state, &v, session, quiz, r.status, |p| {
                    p.question_refusal = r
                })
                .await
            }
            Err(page) => *page,
        },
    }
}

/// Deletes the quiz; back to the course's editor.
pub async fn delete_quiz(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<LessonAction>,
) -> Response {
    let here = format!("/quizzes/{id}/edit");
    let session = match trainer(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let deleted = state
        .ctx
        .transaction(|conn| authoring::delete_quiz(conn, session, id).scope_boxed())
        .await;
    match deleted {
        Ok(course) => see_other(&format!("/courses/{course}/edit"), vec![]),
        Err(e) => match refused(e, &v) {
            Ok(r) => {
                quiz_again(&state, &v, session, id, r.status, |p| {
                    p.settings_refusal = r
                })
                .await
            }
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "question_edit.html")]
struct QuestionEditPage {
    c: Chrome,
    id: i64,
    quiz: i64,
    question: QuestionFields,
    question_refusal: FieldRefusal,
}

impl QuestionEditPage {
    fn kinds(&self) -> Vec<(&'static str, String, bool)> {
        kinds(&self.c, &self.question.kind)
    }
}

/// A question's own editor, filled with it as saved.
pub async fn question_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Response {
    let session = match reader(&v, &format!("/questions/{id}/edit")) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let quiz = authoring::quiz_of_question(&mut conn, session, id).await?;
        authoring::quiz_draft(&mut conn, session, quiz).await
    }
    .await;
    let draft = match read {
        Ok(d) => d,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let Some((question, choices)) = draft.questions.iter().find(|(q, _)| q.id == id) else {
        return PageError::from_core(CoreError::NotFound("question"), &v).into_response();
    };
    page(
        &v,
        StatusCode::OK,
        &QuestionEditPage {
            c: Chrome::of(&v, &format!("/questions/{id}/edit")),
            id,
            quiz: draft.quiz.id,
            question: QuestionFields::of(question, choices),
            question_refusal: FieldRefusal::default(),
        },
    )
}

/// Rewrites a question (a draft's, of a quiz nobody attempted); back to its quiz, or the
/// same form with the refusal beside its field.
pub async fn save_question(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let here = format!("/questions/{id}/edit");
    let session = match trainer(&v, &here, &csrf_of(&fields)) {
        Ok(s) => s,
        Err(to) => return *to,
    };
    let typed = QuestionFields::read(&fields);
    let shown = |question: QuestionFields, refusal: FieldRefusal, quiz: i64| {
        let status = refusal.status;
        page(
            &v,
            status,
            &QuestionEditPage {
                c: Chrome::of(&v, &here),
                id,
                quiz,
                question,
                question_refusal: refusal,
            },
        )
    };
    let quiz = async {
        let mut conn = state.ctx.conn().await?;
        authoring::quiz_of_question(&mut conn, session, id).await
    }
    .await;
    let quiz = match quiz {
        Ok(q) => q,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let input = match typed.input(&v) {
        Ok(i) => i,
        Err(r) => return shown(typed, r, quiz),
    };
    let input = &input;
    let saved = state
        .ctx
        .transaction(|conn| authoring::edit_question(conn, session, id, input).scope_boxed())
        .await;
    match saved {
        Ok(()) => see_other(&format!("/quizzes/{quiz}/edit#questions"), vec![]),
        Err(e) => match question_refused(e, &v, &typed) {
            Ok(r) => shown(typed, r, quiz),
            Err(page) => *page,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The image appended to a lesson renders as one, its alt text exactly as typed (the
    /// Markdown in it escaped), in a paragraph of its own after the text.
    #[test]
    fn an_appended_image_renders_with_its_alt_text() {
        let alt = "A *red* [button] & <b>\\ ! `x`";
        let line = format!("![{}](/media/abc.png)", markdown_alt(alt));
        let html = markdown_to_page_html(&with_image("Some **text**.\r\n\r\n", &line));
        assert_eq!(
            html,
            "<p>Some <strong>text</strong>.</p>\n<p><img src=\"/media/abc.png\" \
             alt=\"A *red* [button] &amp; &lt;b&gt;\\ ! `x`\" /></p>\n"
        );
        assert_eq!(with_image("", "![a](/media/b.png)"), "![a](/media/b.png)");
    }
}
