//! Turning templates and errors into answers: HTML with the page chrome, the CSRF cookie
//! on a first visit, redirects after a form (303), and error pages in the visitor's language.

use crate::{
    i18n::Words,
    session::{csrf_cookie, Visitor},
};
use askama::Template;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use cenacle_api::error::ApiError;
use cenacle_core::CoreError;
use cenacle_domain::Permission;

/// What every page shows around its content: the menu, who is signed in, the language switch.
pub struct Chrome {
    pub t: Words,
    pub csrf: String,
    pub user: Option<String>,
    /// The signed-in member administers something here: the menu shows the way there.
    pub admin: bool,
    /// The signed-in member runs the welcome and onboarding (community managers, admins).
    pub onboarding: bool,
    pub instance: String,
    pub other_lang: &'static str,
    /// This page's path, to come back to after switching languages (encoded for a query).
    pub here: String,
    /// Unread notifications of the signed-in member.
    pub unread: i64,
}

impl Chrome {
    pub fn of(v: &Visitor, here: &str) -> Chrome {
        Chrome {
            user: v.username().map(str::to_owned),
            admin: v.may(Permission::ListAccounts) || v.may(Permission::BlockInstances),
            onboarding: v.may(Permission::ManageOnboarding),
            csrf: v.csrf.clone(),
            unread: v.unread,
            ..Chrome::anonymous(v.words, v.instance.clone(), here)
        }
    }

    fn anonymous(t: Words, instance: String, here: &str) -> Chrome {
        Chrome {
            t,
            csrf: String::new(),
            user: None,
            admin: false,
            onboarding: false,
            instance,
            other_lang: match t.0 {
                cenacle_domain::Language::Fr => "en",
                cenacle_domain::Language::En => "fr",
            },
            here: crate::pages::encode_path(here),
            unread: 0,
        }
    }
}

/// A rendered page, with the CSRF cookie when this browser has none yet.
pub fn page(v: &Visitor, status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response();
            if let Some(token) = &v.new_csrf_cookie {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, csrf_cookie(token, v.secure));
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// After a form's action: on to `to` (a path of ours), or the error page saying why not (not
/// allowed, out of range, not enough points…).
pub fn after_action(result: Result<(), CoreError>, v: &Visitor, to: &str) -> Response {
    match result {
        Ok(()) => see_other(to, vec![]),
        Err(e) => PageError::from_core(e, v).into_response(),
    }
}

/// A form's refusal that is the member's to fix (a 4xx: a field's rule, not enough points,
/// a name not found…) as its status and the words saying why, to show beside the form; any
/// other failure as the error page.
pub fn fixable_refusal(e: CoreError, v: &Visitor) -> Result<(StatusCode, String), Box<Response>> {
    field_refusal(e, v).map(|r| (r.status, r.why))
}

/// A refusal the member can fix, with the field at fault so that the page shows it under
/// that field (and marks the field invalid for assistive technologies).
#[derive(Debug, Clone, Default)]
pub struct FieldRefusal {
    pub status: StatusCode,
    /// The form field at fault, or empty when the refusal is the whole form's.
    pub field: String,
    pub why: String,
}

impl FieldRefusal {
    /// Whether the refusal is about `field` (templates ask it to mark that input).
    pub fn on(&self, field: &str) -> bool {
        !self.why.is_empty() && self.field == field
    }

    /// Whether the refusal is the whole form's (shown above it).
    pub fn general(&self) -> bool {
        !self.why.is_empty() && self.field.is_empty()
    }
}

/// [`fixable_refusal`], keeping the field the rule names.
pub fn field_refusal(e: CoreError, v: &Visitor) -> Result<FieldRefusal, Box<Response>> {
    let e = ApiError::from(e);
    if !matches!(e.status.as_u16(), 400 | 404 | 409 | 422) {
        return Err(Box::new(
            PageError::from_api(e, v.words)
                .for_visitor(v)
                .into_response(),
        ));
    }
    let detail = |key: &str| {
        e.details
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|r| r.as_str())
            .map(str::to_owned)
    };
    let mut why = match detail("reason") {
        // A field's rule: say what is wrong with it.
        Some(reason) => v.words.invalid(&reason),
        None => cenacle_api::i18n::message(e.code, v.words.0).to_owned(),
    };
    // A template's unknown variable is named, for the writer to find it (the API's words
    // point at its JSON details).
    if let Some(variable) = detail("variable") {
        why = format!(
            "{} {{{{{variable}}}}}",
            v.words.t("template-unknown-variable")
        );
    }
    Ok(FieldRefusal {
        status: e.status,
        field: detail("field").unwrap_or_default(),
        why,
    })
}

/// After a form: go to `to` (a path of ours), with cookies to set.
pub fn see_other(to: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// A path of this site to go back to (never another site: `//evil.example` and the like are
/// refused), or the home page.
pub fn local_path(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if ok {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: Chrome,
    heading: &'a str,
    message: &'a str,
}

/// The refused rules (`invalid-<code>` in the catalogue) whose words an error page may show
/// alone: they name what they are about (the file, the image, the password, the e-mail
/// address, the end and the start, the account, the group…). The others lean on the field
/// they are shown under ("Too many.", "This field cannot be empty.", "This name is
/// reserved." where a form has several names, "Use only lowercase letters…"): an error page
/// says the general message for them instead.
///
/// A list here rather than naming the field on the page (the rules' fields are the API's
/// names, `expertise_tags`, `limit_per_member`, with no words of their own to show) or a
/// second `page-invalid-*` family in the catalogue (a copy of the same words to keep in step
/// in both languages): one text per rule, and a rule left out gets the general message, which
/// is vaguer but never wrong. The catalogues' comment above `invalid-field` points here.
const STANDALONE_RULES: &[&str] = &[
    "file_too_large",
    "unsupported_type",
    "type_mismatch",
    "media_gone",
    "same_as_username",
    "too_simple",
    "invalid_email",
    "write_off_positive",
    "received_negative",
    "not_after_start",
    "before_start",
    "already_published",
    "email_required",
    "unknown_account",
    "unknown_group",
    "unknown_cause",
    "not_a_community_manager",
    "unknown_trigger",
    "unknown_stop_condition",
    "unknown_step_kind",
];

/// An error shown as a page in the visitor's language, with the API's status for it.
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
    pub words: Words,
    pub instance: String,
    /// Who is signed in, and their form token, so the menu stays theirs (sign out works) on
    /// an error page; None where the visitor is not known (the 404 of an unknown path).
    pub signed_in: Option<(String, String)>,
}

impl PageError {
    pub fn from_api(e: ApiError, words: Words) -> PageError {
        let message = if e.status == StatusCode::NOT_FOUND {
            words.t("not-found")
        } else {
            cenacle_api::i18n::message(e.code, words.0).to_owned()
        };
        PageError {
            status: e.status,
            message,
            words,
            instance: String::new(),
            signed_in: None,
        }
    }

    pub fn from_core(e: CoreError, v: &Visitor) -> PageError {
        // A refused value whose rule's words stand alone says them (an image the text named
        // was removed meanwhile: upload it again), not only the API's "a field is not valid":
        // a page without a place for that field's error has only this message to show. The
        // words of a field-bound rule ("Too many.") would say less than the general message.
        let explained = match &e {
            // (Each of them is in both catalogues: a test below sees to it.)
            CoreError::Validation(invalid) if STANDALONE_RULES.contains(&invalid.code) => {
                Some(v.words.invalid(invalid.code))
            }
            _ => None,
        };
        let mut page = PageError {
            instance: v.instance.clone(),
            ..PageError::from_api(ApiError::from(e), v.words)
        }
        .for_visitor(v);
        if let Some(message) = explained {
            page.message = message;
        }
        page
    }

    /// The error as `v` sees it: their menu around it.
    pub fn for_visitor(mut self, v: &Visitor) -> PageError {
        self.signed_in = v.username().map(|user| (user.to_owned(), v.csrf.clone()));
        self
    }

    pub fn not_found(words: Words, instance: String) -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            message: words.t("not-found"),
            words,
            instance,
            signed_in: None,
        }
    }

    /// A form or link with a value no page offers (a vote of "maybe", a decision of "later").
    pub fn bad_request(v: &Visitor) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            message: v.words.t("bad-request"),
            words: v.words,
            instance: v.instance.clone(),
            signed_in: None,
        }
        .for_visitor(v)
    }

    pub fn csrf(v: &Visitor) -> PageError {
        PageError {
            status: StatusCode::FORBIDDEN,
            message: v.words.t("csrf-refused"),
            words: v.words,
            instance: v.instance.clone(),
            signed_in: None,
        }
        .for_visitor(v)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let heading = if self.status == StatusCode::NOT_FOUND {
            self.words.t("not-found-heading")
        } else {
            self.words.t("error-heading")
        };
        let mut chrome = Chrome::anonymous(self.words, self.instance, "/");
        if let Some((user, csrf)) = self.signed_in {
            chrome.user = Some(user);
            chrome.csrf = csrf;
        }
        let html = ErrorPage {
            c: chrome,
            heading: &heading,
            message: &self.message,
        }
        .render()
        .unwrap_or_else(|_| self.message.clone());
        (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_paths_are_gone_back_to() {
        assert_eq!(local_path("/posts/3"), "/posts/3");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "",
            "posts",
        ] {
            assert_eq!(local_path(bad), "/", "{bad}");
        }
    }

    fn visitor(words: Words) -> Visitor {
        Visitor {
            session: None,
            words,
            csrf: String::new(),
            new_csrf_cookie: None,
            secure: false,
            session_expired: false,
            instance: "Cénacle".into(),
            unread: 0,
        }
    }

    /// A page with no place for the refused field (the welcome message's, a course's) has
    /// only its error page to say why: the rule's own words when the catalogue has them, the
    /// general 422 message otherwise.
    #[test]
    fn an_error_page_says_the_refused_rule_in_the_readers_language() {
        use cenacle_domain::{Language, ValidationError};
        let gone = || {
            CoreError::Validation(ValidationError {
                field: "media",
                code: "media_gone",
            })
        };
        let fr = PageError::from_core(gone(), &visitor(Words(Language::Fr)));
        assert_eq!(fr.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            fr.message.contains("envoyez-la de nouveau"),
            "{}",
            fr.message
        );
        let en = PageError::from_core(gone(), &visitor(Words(Language::En)));
        assert!(en.message.contains("upload it again"), "{}", en.message);
        let unexplained = CoreError::Validation(ValidationError {
            field: "x",
            code: "no_such_rule",
        });
        let general = PageError::from_core(unexplained, &visitor(Words(Language::En)));
        assert_eq!(general.message, "A field is not valid.");
        // A rule whose words need their field beside them ("Too many.": of what?) says the
        // general message, which at least says a field of the form is at fault.
        for (language, expected) in [
            (Language::En, "A field is not valid."),
            (Language::Fr, "Un champ n'est pas valide."),
        ] {
            let too_many = CoreError::Validation(ValidationError {
                field: "expertise_tags",
                code: "too_many",
            });
            let page = PageError::from_core(too_many, &visitor(Words(language)));
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(page.message, expected, "{language:?}");
        }
    }

    /// Every rule an error page may show alone has its words in both languages (a code
    /// misspelt in the list would quietly fall back to the general message).
    #[test]
    fn the_rules_that_stand_alone_are_in_both_catalogues() {
        use cenacle_domain::Language;
        for code in STANDALONE_RULES {
            for language in [Language::Fr, Language::En] {
                assert!(Words(language).explains(code), "{code} in {language:?}");
            }
        }
    }
}
