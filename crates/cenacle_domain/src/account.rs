//! Account rules: who may register, what a valid username, password and profile are.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// How people join this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    Open,
    ApprovalRequired,
    InviteOnly,
    Closed,
}

impl RegistrationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationMode::Open => "open",
            RegistrationMode::ApprovalRequired => "approval_required",
            RegistrationMode::InviteOnly => "invite_only",
            RegistrationMode::Closed => "closed",
        }
    }
}

/// Whether an account may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    /// Registered while the instance requires approval; cannot log in yet.
    PendingApproval,
    Suspended,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::PendingApproval => "pending_approval",
            AccountStatus::Suspended => "suspended",
        }
    }
}

impl FromStr for AccountStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "pending_approval" => Ok(Self::PendingApproval),
            "suspended" => Ok(Self::Suspended),
            other => Err(format!("unknown account status `{other}`")),
        }
    }
}

/// The languages every user-facing text exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Fr,
    #[default]
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        match code {
            "fr" => Some(Language::Fr),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    /// Picks the language from an `Accept-Language` header: the first of its ranges (by
    /// quality, then order) that we speak, English otherwise.
    pub fn from_accept_language(header: &str) -> Language {
        let mut ranges: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, i, tag))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranges
            .into_iter()
            .filter(|(q, _, _)| *q > 0.0)
            .find_map(|(_, _, tag)| {
                let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
                Language::parse(&primary)
            })
            .unwrap_or_default()
    }
}

/// A rule a piece of input broke: the field and a stable code (translated by the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {code}")]
pub struct ValidationError {
    pub field: &'static str,
    pub code: &'static str,
}

impl ValidationError {
    fn new(field: &'static str, code: &'static str) -> Self {
        Self { field, code }
    }
}

pub const USERNAME_MAX: usize = 30;
pub const PASSWORD_MIN: usize = 10;
/// Argon2 hashes the whole password: an unbounded one is a cheap denial of service.
pub const PASSWORD_MAX: usize = 256;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const BIO_MAX: usize = 5000;
pub const EXPERTISE_TAGS_MAX: usize = 20;
pub const EXPERTISE_TAG_MAX: usize = 40;

/// Usernames become ActivityPub `preferredUsername`s and WebFinger handles: lowercase ASCII
/// letters, digits and `_`, starting with a letter or digit, so that every fediverse server
/// (Lemmy allows `[a-z0-9_.-]`, Mastodon `[a-z0-9_]`) accepts them unchanged.
pub fn validate_username(name: &str) -> Result<(), ValidationError> {
    validate_actor_name("username", name)?;
    if RESERVED_USERNAMES.contains(&name) {
        return Err(ValidationError::new("username", "reserved"));
    }
    Ok(())
}

/// The `preferredUsername` of the instance actor (the `Application` that signs our fetches).
/// GoToSocial WebFingers it (`acct:instance_actor@host`) before trusting a signed fetch, so it
/// must be a valid WebFinger name ([`is_webfinger_name`]) and no member or group may take it.
pub const INSTANCE_ACTOR_NAME: &str = "instance_actor";

/// The `preferredUsername` of the reporting actor (the `Service` that sends anonymous
/// reports): WebFingered by Mastodon and GoToSocial like any actor, so reserved too.
pub const REPORTING_ACTOR_NAME: &str = "instance_reports";

/// Names that would collide with the instance's own actors.
pub const RESERVED_USERNAMES: &[&str] = &[INSTANCE_ACTOR_NAME, REPORTING_ACTOR_NAME];

/// A name other servers accept in `acct:name@host` and as a `preferredUsername`: ASCII
/// letters, digits, `.`, `-`, `_` (Lemmy's and GoToSocial's rule; no `host:port`).
pub fn is_webfinger_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Group names follow the username rule: they become `preferredUsername` too, and share
/// WebFinger's namespace with people and the instance actor.
pub fn validate_group_name(name: &str) -> Result<(), ValidationError> {
    validate_actor_name("name", name)?;
    if RESERVED_USERNAMES.contains(&name) {
        return Err(ValidationError::new("name", "reserved"));
    }
    Ok(())
}

pub const GROUP_TITLE_MAX: usize = 100;
pub const GROUP_DESCRIPTION_MAX: usize = 10_000;

pub fn validate_group_text(
    title: Option<&str>,
    description: Option<&str>,
) -> Result<(), ValidationError> {
    if let Some(title) = title {
        if title.trim().is_empty() {
            return Err(ValidationError::new("title", "empty"));
        }
        if title.chars().count() > GROUP_TITLE_MAX {
            return Err(ValidationError::new("title", "too_long"));
        }
    }
    if description.is_some_and(|d| d.chars().count() > GROUP_DESCRIPTION_MAX) {
        return Err(ValidationError::new("description", "too_long"));
    }
    Ok(())
}

fn validate_actor_name(field: &'static str, name: &str) -> Result<(), ValidationError> {
    if name.len() < 3 {
        return Err(ValidationError::new(field, "too_short"));
    }
    if name.len() > USERNAME_MAX {
        return Err(ValidationError::new(field, "too_long"));
    }
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let starts_well = name.as_bytes()[0].is_ascii_alphanumeric();
    if !valid_chars || !starts_well {
        return Err(ValidationError::new(field, "invalid_characters"));
    }
    Ok(())
}

pub fn validate_password(password: &str, username: &str) -> Result<(), ValidationError> {
    let field = "password";
    let chars = password.chars().count();
    if chars < PASSWORD_MIN {
        return Err(ValidationError::new(field, "too_short"));
    }
    if chars > PASSWORD_MAX {
        return Err(ValidationError::new(field, "too_long"));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(ValidationError::new(field, "same_as_username"));
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err(ValidationError::new(field, "too_simple"));
    }
    Ok(())
}

/// A deliberately loose check: the only real proof of an address is a mail that arrives.
pub fn validate_email(email: &str) -> Result<(), ValidationError> {
    let field = "email";
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(field, "invalid_email"))
    }
}

/// The outcome of a registration attempt under the instance's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationDecision {
    /// Create the account in this status.
    Create(AccountStatus),
    Refuse(RegistrationRefusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationRefusal {
    Closed,
    InviteRequired,
}

/// `has_valid_invite` is true when the request carries an unused, unexpired invitation. An
/// invitation always lets its holder in directly: someone on the team already vouched for them.
pub fn decide_registration(mode: RegistrationMode, has_valid_invite: bool) -> RegistrationDecision {
    use RegistrationDecision::*;
    match (mode, has_valid_invite) {
        (RegistrationMode::Closed, _) => Refuse(RegistrationRefusal::Closed),
        (_, true) => Create(AccountStatus::Active),
        (RegistrationMode::Open, false) => Create(AccountStatus::Active),
        (RegistrationMode::ApprovalRequired, false) => Create(AccountStatus::PendingApproval),
        (RegistrationMode::InviteOnly, false) => Refuse(RegistrationRefusal::InviteRequired),
    }
}

/// A profile edit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub expertise_tags: Option<Vec<String>>,
    pub language: Option<Language>,
}

/// Checks lengths and normalises expertise tags (trimmed, lowercase, unique, in order).
pub fn validate_profile(mut change: ProfileChange) -> Result<ProfileChange, ValidationError> {
    if let Some(name) = &mut change.display_name {
        *name = name.trim().to_owned();
        if name.chars().count() > DISPLAY_NAME_MAX {
            return Err(ValidationError::new("display_name", "too_long"));
        }
    }
    if let Some(bio) = &change.bio {
        if bio.chars().count() > BIO_MAX {
            return Err(ValidationError::new("bio", "too_long"));
        }
    }
    if let Some(url) = &change.avatar_url {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) || url.len() > 2000 {
            return Err(ValidationError::new("avatar_url", "invalid_url"));
        }
    }
    if let Some(tags) = &change.expertise_tags {
        let mut normalised: Vec<String> = Vec::new();
        for tag in tags {
            let tag = tag.trim().to_lowercase();
            if tag.is_empty() {
                continue;
            }
            if tag.chars().count() > EXPERTISE_TAG_MAX {
                return Err(ValidationError::new("expertise_tags", "tag_too_long"));
            }
            if !normalised.contains(&tag) {
                normalised.push(tag);
            }
        }
        if normalised.len() > EXPERTISE_TAGS_MAX {
            return Err(ValidationError::new("expertise_tags", "too_many"));
        }
        change.expertise_tags = Some(normalised);
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_actors_name_is_a_webfinger_name_no_member_or_group_can_take() {
        assert!(is_webfinger_name(INSTANCE_ACTOR_NAME));
        assert!(is_webfinger_name(REPORTING_ACTOR_NAME));
        for name in [INSTANCE_ACTOR_NAME, REPORTING_ACTOR_NAME] {
            assert_eq!(validate_username(name).unwrap_err().code, "reserved");
        }
        assert_eq!(
            validate_group_name(INSTANCE_ACTOR_NAME).unwrap_err(),
            ValidationError::new("name", "reserved")
        );
        // GoToSocial refuses a signer named `host:port` (how Lemmy's instance actor fails).
        for bad in ["alpha.test:8700", "", "a b", "é"] {
            assert!(!is_webfinger_name(bad), "{bad}");
        }
        assert!(is_webfinger_name("Lemmy.ml-bot_1"));
    }

    #[test]
    fn usernames() {
        assert!(validate_username("marie_curie").is_ok());
        assert!(validate_username("a1b").is_ok());
        assert_eq!(validate_username("ab").unwrap_err().code, "too_short");
        assert_eq!(
            validate_username("instance_actor").unwrap_err().code,
            "reserved"
        );
        assert_eq!(validate_group_name("Café").unwrap_err().field, "name");
        assert!(validate_group_text(Some("  "), None).is_err());
        assert!(validate_group_text(Some("Rust"), Some("")).is_ok());
        assert_eq!(
            validate_username(&"a".repeat(31)).unwrap_err().code,
            "too_long"
        );
        for bad in ["Marie", "_marie", "ma rie", "marié", "ma-rie", "ma.rie"] {
            assert_eq!(
                validate_username(bad).unwrap_err().code,
                "invalid_characters",
                "{bad}"
            );
        }
    }

    #[test]
    fn passwords() {
        assert!(validate_password("correct horse battery", "marie").is_ok());
        assert_eq!(
            validate_password("short", "marie").unwrap_err().code,
            "too_short"
        );
        assert_eq!(
            validate_password("aaaaaaaaaaaa", "marie").unwrap_err().code,
            "too_simple"
        );
        assert_eq!(
            validate_password("MarieCurie1", "mariecurie1")
                .unwrap_err()
                .code,
            "same_as_username"
        );
        assert_eq!(
            validate_password(&"ab".repeat(129), "m").unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn emails() {
        assert!(validate_email("marie@example.org").is_ok());
        for bad in [
            "marie",
            "@example.org",
            "marie@example",
            "ma rie@example.org",
            "m@.org",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registration_modes() {
        use AccountStatus::*;
        use RegistrationDecision::*;
        assert_eq!(
            decide_registration(RegistrationMode::Open, false),
            Create(Active)
        );
        assert_eq!(
            decide_registration(RegistrationMode::ApprovalRequired, false),
            Create(PendingApproval)
        );
        assert_eq!(
            decide_registration(RegistrationMode::ApprovalRequired, true),
            Create(Active)
        );
        assert_eq!(
            decide_registration(RegistrationMode::InviteOnly, false),
            Refuse(RegistrationRefusal::InviteRequired)
        );
        assert_eq!(
            decide_registration(RegistrationMode::InviteOnly, true),
            Create(Active)
        );
        assert_eq!(
            decide_registration(RegistrationMode::Closed, true),
            Refuse(RegistrationRefusal::Closed)
        );
    }

    #[test]
    fn accept_language_negotiation() {
        assert_eq!(
            Language::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Language::Fr
        );
        assert_eq!(
            Language::from_accept_language("de-DE,de;q=0.9,fr;q=0.5"),
            Language::Fr
        );
        assert_eq!(
            Language::from_accept_language("en;q=0.4, fr;q=0.9"),
            Language::Fr
        );
        assert_eq!(Language::from_accept_language("de"), Language::En);
        assert_eq!(Language::from_accept_language("fr;q=0, en"), Language::En);
        assert_eq!(Language::from_accept_language(""), Language::En);
    }

    #[test]
    fn profile_tags_are_normalised() {
        let change = validate_profile(ProfileChange {
            expertise_tags: Some(vec![
                " Rust ".into(),
                "rust".into(),
                "".into(),
                "SQL".into(),
            ]),
            display_name: Some("  Marie  ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(change.expertise_tags.unwrap(), vec!["rust", "sql"]);
        assert_eq!(change.display_name.unwrap(), "Marie");
        let too_many = (0..21).map(|i| format!("t{i}")).collect();
        assert!(validate_profile(ProfileChange {
            expertise_tags: Some(too_many),
            ..Default::default()
        })
        .is_err());
        assert!(validate_profile(ProfileChange {
            avatar_url: Some("javascript:alert(1)".into()),
            ..Default::default()
        })
        .is_err());
    }
}
