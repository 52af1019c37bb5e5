//! The instance's welcome: a message (Markdown, FR/EN) introduced by a community manager,
//! shown to every newcomer (a panel on their home until dismissed) and mailed to them; and,
//! if they agreed at sign-up, a welcome post by the manager in the welcome group naming them
//! (a real post, through the posts use case, so it federates like any other).

use crate::{
    caller::{require, Session},
    mail::{enqueue_mail, link_base},
    posts::{self, PostInput},
    Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    accounts::{self as account_store, Account},
    actors,
    onboarding::{self as store, WelcomeSettings},
};
use cenacle_domain::{
    content::PostKind,
    mail::{MailContent, MailKind},
    AccountStatus, Language, Permission, Role, ValidationError,
};

/// The longest welcome message, per language.
pub const WELCOME_MAX_CHARS: usize = 20_000;

/// The community manager who introduces the welcome, as shown to newcomers.
#[derive(Debug, Clone)]
pub struct Introducer {
    pub person_id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

/// The welcome as configured.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub message_fr: String,
    pub message_en: String,
    pub manager: Option<Introducer>,
    /// The local group's name.
    pub group: Option<String>,
    pub post_in_group: bool,
}

/// What an admin or community manager sets: the manager and group by name.
#[derive(Debug, Clone, Default)]
pub struct WelcomeInput {
    pub message_fr: String,
    pub message_en: String,
    pub manager: Option<String>,
    pub group: Option<String>,
    pub post_in_group: bool,
}

impl Welcome {
    pub fn message(&self, language: Language) -> &str {
        match language {
            Language::Fr => &self.message_fr,
            Language::En => &self.message_en,
        }
    }
}

pub async fn welcome(conn: &mut Conn) -> Result<Welcome, CoreError> {
    let s = store::welcome_settings(conn).await?;
    let manager = match s.manager_id {
        Some(id) => account_store::find_by_id(conn, id)
            .await?
            .map(|a| Introducer {
                person_id: a.person_id,
                username: a.username,
                display_name: a.display_name,
                avatar_url: a.avatar_url,
            }),
        None => None,
    };
    let group = match s.welcome_group_id {
        Some(id) => actors::group_by_id(conn, id).await?.map(|g| g.name),
        None => None,
    };
    Ok(Welcome {
        message_fr: s.welcome_fr,
        message_en: s.welcome_en,
        manager,
        group,
        post_in_group: s.post_in_group,
    })
}

/// Saves the welcome. The introducer must be a local admin or community manager; the group a
/// local one.
pub async fn set_welcome(
    conn: &mut Conn,
    session: &Session,
    input: &WelcomeInput,
) -> Result<Welcome, CoreError> {
    require(session, Permission::ManageOnboarding)?;
    let invalid = |field, code| CoreError::Validation(ValidationError { field, code });
    for (field, text) in [
        ("message_fr", &input.message_fr),
        ("message_en", &input.message_en),
    ] {
        if text.chars().count() > WELCOME_MAX_CHARS {
            return Err(invalid(field, "too_long"));
        }
    }
    let manager_id = match input.manager.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => {
            let account = account_store::find_by_username(conn, name)
                .await?
                .ok_or(invalid("manager", "unknown_account"))?;
            if !matches!(account.role, Role::CommunityManager | Role::Admin) {
                return Err(invalid("manager", "not_a_community_manager"));
            }
            Some(account.person_id)
        }
        _ => None,
    };
    let welcome_group_id = match input.group.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => Some(
            actors::local_group_by_name(conn, name)
                .await?
                .ok_or(invalid("group", "unknown_group"))?
                .id,
        ),
        _ => None,
    };
    // A welcome post needs its group and its author: without them none would ever be made.
    if input.post_in_group {
        if welcome_group_id.is_none() {
            return Err(invalid("group", "required"));
        }
        if manager_id.is_none() {
            return Err(invalid("manager", "required"));
        }
    }
    crate::media::hold_uploads_named_in(conn, &[&input.message_fr, &input.message_en]).await?;
    store::set_welcome_settings(
        conn,
        &WelcomeSettings {
            welcome_fr: input.message_fr.trim().to_owned(),
            welcome_en: input.message_en.trim().to_owned(),
            manager_id,
            welcome_group_id,
            post_in_group: input.post_in_group,
        },
    )
    .await?;
    welcome(conn).await
}

/// How long after the sign-up a newcomer who verifies their address still gets the welcome
/// mail.
const WELCOME_MAIL_WITHIN_DAYS: i32 = 30;

/// Greets a member who just got in (in the registration's or the approval's transaction):
/// their welcome panel, the welcome mail, and — if they agreed and a group is set — the
/// manager's welcome post naming them. A registration waiting for approval is greeted when
/// it is let in ([`greet_approved`]).
pub async fn greet_newcomer(
    conn: &mut Conn,
    ctx: &Context,
    account: &Account,
    agreed_to_welcome_post: bool,
) -> Result<(), CoreError> {
    match account.status {
        AccountStatus::Active => {}
        AccountStatus::PendingApproval => {
            store::hold_welcome(conn, account.person_id, agreed_to_welcome_post).await?;
            return Ok(());
        }
        _ => return Ok(()),
    }
    store::open_welcome_panel(conn, account.person_id).await?;
    mail_welcome_if_owed(conn, ctx, account).await?;
    let welcome = welcome(conn).await?;
    if !(agreed_to_welcome_post && welcome.post_in_group) {
        return Ok(());
    }
    let (Some(manager), Some(group_name)) = (&welcome.manager, &welcome.group) else {
        return Ok(());
    };
    let Some(manager_account) = account_store::find_by_id(conn, manager.person_id).await? else {
        return Ok(());
    };
    let Some(group) = actors::local_group_by_name(conn, group_name).await? else {
        return Ok(());
    };
    let instance = &ctx.settings.server.instance_name;
    let (title, body) = match account.language {
        Language::Fr => (
            format!("Bienvenue à @{} !", account.username),
            format!(
                "Toute la communauté souhaite la bienvenue à @{} sur {instance}. N'hésitez pas à vous présenter !",
                account.username
            ),
        ),
        Language::En => (
            format!("Welcome @{}!", account.username),
            format!(
                "The whole community welcomes @{} to {instance}. Feel free to introduce yourself!",
                account.username
            ),
        ),
    };
    let author = Caller {
        person_id: manager_account.person_id,
        instance_role: Some(manager_account.role),
    };
    let input = PostInput {
        kind: PostKind::Note,
        title,
        body,
        tags: vec![],
        language: Some(account.language),
        attachments: vec![],
        remote_attachments: vec![],
    };
    // A welcome post the group refuses (archived since, the manager banned from it or no
    // longer allowed to post there) must not refuse the newcomer's sign-up: the refusal is
    // logged for the community managers and the rest of the welcome stands. Refusals are
    // decided before anything is written; a database failure still fails the sign-up.
    match posts::create_post(conn, ctx, &author, &group, input, None).await {
        Ok(_) => Ok(()),
        Err(e @ CoreError::Database(_)) => Err(e),
        Err(refused) => {
            tracing::warn!(group = %group.name, error = %refused, "the welcome post was refused");
            Ok(())
        }
    }
}

/// Greets a registration an admin just let in (in the approval's transaction), with the
/// answer the newcomer gave at sign-up about the welcome post.
pub async fn greet_approved(
    conn: &mut Conn,
    ctx: &Context,
    account: &Account,
) -> Result<(), CoreError> {
    let agreed = store::take_held_welcome(conn, account.person_id)
        .await?
        .unwrap_or(false);
    greet_newcomer(conn, ctx, account, agreed).await
}

/// Queues the welcome mail if the member is still owed it: at sign-up, and again when they
/// verify their address (the mail goes only to verified addresses, so a newcomer who signed
/// up unverified would otherwise never get it). Queued once: the panel row records it.
pub async fn mail_welcome_if_owed(
    conn: &mut Conn,
    ctx: &Context,
    account: &Account,
) -> Result<(), CoreError> {
    if !store::welcome_mail_owed(conn, account.person_id, WELCOME_MAIL_WITHIN_DAYS).await? {
        return Ok(());
    }
    let welcome = welcome(conn).await?;
    let instance = ctx.settings.server.instance_name.clone();
    let link = format!("{}/", link_base(ctx));
    let compose = |language: Language| {
        welcome_mail(
            &welcome,
            welcome.manager.as_ref(),
            &instance,
            &link,
            &account.username,
            language,
        )
    };
    if enqueue_mail(conn, ctx, account.person_id, MailKind::Onboarding, compose).await? {
        store::mark_welcome_mailed(conn, account.person_id).await?;
    }
    Ok(())
}

fn welcome_mail(
    welcome: &Welcome,
    introducer: Option<&Introducer>,
    instance: &str,
    link: &str,
    username: &str,
    language: Language,
) -> MailContent {
    let mut paragraphs: Vec<String> = welcome
        .message(language)
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let signer = introducer.map(|m| m.display_name.clone().unwrap_or_else(|| m.username.clone()));
    match language {
        Language::Fr => {
            if paragraphs.is_empty() {
                paragraphs.push(format!("Bienvenue sur {instance} !"));
            }
            if let Some(name) = signer {
                paragraphs.push(format!("— {name}, pour toute la communauté"));
            }
            MailContent::compose(
                format!("Bienvenue sur {instance}"),
                &format!("Bonjour {username},"),
                &paragraphs,
                Some(("Découvrir la communauté", link)),
                &format!("{instance} — votre parcours de bienvenue."),
            )
        }
        Language::En => {
            if paragraphs.is_empty() {
                paragraphs.push(format!("Welcome to {instance}!"));
            }
            if let Some(name) = signer {
                paragraphs.push(format!("— {name}, on behalf of the whole community"));
            }
            MailContent::compose(
                format!("Welcome to {instance}"),
                &format!("Hello {username},"),
                &paragraphs,
                Some(("Discover the community", link)),
                &format!("{instance} — your welcome journey."),
            )
        }
    }
}

/// The welcome the member has not dismissed yet, if any.
pub async fn my_welcome(conn: &mut Conn, session: &Session) -> Result<Option<Welcome>, CoreError> {
    if !store::welcome_panel_open(conn, session.account.person_id).await? {
        return Ok(None);
    }
    Ok(Some(welcome(conn).await?))
}

pub async fn dismiss_welcome(conn: &mut Conn, session: &Session) -> Result<(), CoreError> {
    Ok(store::dismiss_welcome_panel(conn, session.account.person_id).await?)
}
