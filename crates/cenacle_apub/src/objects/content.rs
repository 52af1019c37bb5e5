//! Posts as `Page` and comments and answers as `Note` (DESIGN.md §5), and how we read the posts
//! and notes other servers send (Lemmy pages, Mastodon notes that mention a group).

use crate::vocabulary::deserialize_opt_string;
use crate::{
    vocabulary::{deserialize_audience, deserialize_id, PUBLIC},
    ApubError,
};
use cenacle_core::{
    inbound::{GroupState, IncomingObject},
    media::MAX_DESCRIPTION_CHARS,
    model::{Attachment, Author, Comment, Group, Post, RemoteAttachment},
    published, Conn,
};
use cenacle_domain::content::{IdeaStatus, PostKind, BODY_MAX, TAGS_MAX, TITLE_MAX};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// A post or a comment, as sent and as received.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentJson {
    /// Page for posts, Note for comments; we also read Article, Note without inReplyTo,
    /// Video and Event as posts (as Lemmy does).
    #[serde(rename = "type")]
    pub kind: ContentKind,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub attributed_to: Url,
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "deserialize_tags"
    )]
    pub tag: Vec<serde_json::Value>,
    /// Images and videos (Document/Image/Video with `url`), or links (Lemmy: Link with `href`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "deserialize_tags"
    )]
    pub attachment: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// `cenacle:postKind`: question, idea or note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_kind: Option<String>,
    /// `cenacle:ideaStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idea_status: Option<String>,
    /// `sc:acceptedAnswer`: the accepted answer's id, on questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_answer: Option<Url>,
    /// `cenacle:accepted`, on the accepted answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ContentKind {
    Page,
    Note,
    Article,
    Video,
    Event,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub content: String,
    pub media_type: String,
}

fn deserialize_tags<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<serde_json::Value>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Array(items)) => items,
        Some(one @ serde_json::Value::Object(_)) => vec![one],
        _ => vec![],
    })
}

impl ContentJson {
    /// The Markdown we store: the `source` when it is Markdown, else the content with its HTML
    /// tags stripped (Mastodon sends HTML only).
    pub fn markdown(&self) -> String {
        match &self.source {
            Some(s) if s.media_type == "text/markdown" => s.content.clone(),
            _ => strip_html(self.content.as_deref().unwrap_or_default()),
        }
    }

    /// Attachments by URL, with their media type and alt text (`name`, where Mastodon and
    /// Lemmy put it), in order.
    pub fn attachments(&self) -> Vec<RemoteAttachment> {
        self.attachment
            .iter()
            .filter_map(|a| {
                let url = match a.get("url") {
                    Some(serde_json::Value::String(u)) => Some(u.clone()),
                    Some(serde_json::Value::Object(o)) => {
                        o.get("href").and_then(|h| h.as_str()).map(str::to_owned)
                    }
                    Some(serde_json::Value::Array(items)) => items.iter().find_map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .or_else(|| i.get("href").and_then(|h| h.as_str()).map(str::to_owned))
                    }),
                    _ => a.get("href").and_then(|h| h.as_str()).map(str::to_owned),
                }?;
                let text = |key: &str| a.get(key).and_then(|v| v.as_str()).map(str::trim);
                url.starts_with("http").then(|| RemoteAttachment {
                    url,
                    media_type: text("mediaType").map(str::to_owned),
                    description: text("name")
                        .filter(|d| !d.is_empty())
                        .map(|d| truncate(d, MAX_DESCRIPTION_CHARS)),
                })
            })
            .take(cenacle_core::posts::ATTACHMENTS_MAX)
            .collect()
    }

    /// Hashtags, without `#`, lowercase.
    pub fn hashtags(&self) -> Vec<String> {
        self.tag
            .iter()
            .filter(|t| t.get("type").and_then(|v| v.as_str()) == Some("Hashtag"))
            .filter_map(|t| t.get("name").and_then(|v| v.as_str()))
            .map(|n| n.trim_start_matches('#').to_lowercase())
            .collect()
    }

    /// The title of a post: its `name`, or (Mastodon notes) the first line of its text, at most
    /// 200 characters, as Lemmy does.
    pub fn title(&self) -> String {
        match &self.name {
            Some(name) if !name.trim().is_empty() => name.trim().to_owned(),
            _ => {
                let text = self.markdown();
                let first = text
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("…");
                first.chars().take(200).collect()
            }
        }
    }

    /// The groups this object is addressed to (audience first, then to/cc).
    pub fn addressed(&self) -> Vec<&Url> {
        self.audience
            .iter()
            .chain(self.to.iter())
            .chain(self.cc.iter())
            .collect()
    }

    /// Whether this starts a thread (a post) rather than replying (a comment).
    pub fn is_post(&self) -> bool {
        self.in_reply_to.is_none()
    }
}

/// Markdown rendered as HTML for servers that show `content`. Raw HTML in the Markdown is
/// shown as text, never passed through: what we send must not carry markup members did not
/// write as Markdown.
pub fn markdown_to_html(markdown: &str) -> String {
    render_markdown(markdown, false)
}

/// Markdown as our own pages show it: as [`markdown_to_html`], except that an image whose
/// target is one of our uploaded videos (`/media/<file>.mp4` or `.webm`, as the lesson editor
/// writes it) plays as a video, its alt text as its accessible name and fallback. Federated
/// `content` keeps [`markdown_to_html`]: Mastodon and Lemmy strip `<video>` from what they
/// receive, and send videos as attachments.
pub fn markdown_to_page_html(markdown: &str) -> String {
    render_markdown(markdown, true)
}

fn render_markdown(markdown: &str, play_videos: bool) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    );
    let mut events = Vec::new();
    // Inside a video's image: its target and the alt text read so far.
    let mut video: Option<(String, String)> = None;
    // Images inside the video's alt text (whose ends are not the video's), and links open:
    // a player inside a link would be one control inside another.
    let (mut nested_images, mut links) = (0usize, 0usize);
    for event in parser {
        if let Some((_, alt)) = video.as_mut() {
            match event {
                Event::Start(Tag::Image { .. }) => nested_images += 1,
                Event::End(TagEnd::Image) if nested_images > 0 => nested_images -= 1,
                Event::End(TagEnd::Image) => {
                    let (url, alt) = video.take().unwrap_or_default();
                    events.push(Event::InlineHtml(video_player(&url, &alt).into()));
                }
                // Raw HTML in the alt text is its text too: escaped with the rest.
                Event::Text(text)
                | Event::Code(text)
                | Event::InlineHtml(text)
                | Event::Html(text) => alt.push_str(&text),
                Event::SoftBreak | Event::HardBreak => alt.push(' '),
                _ => {}
            }
            continue;
        }
        events.push(match event {
            Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
            Event::Start(Tag::Image { dest_url, .. })
                if play_videos && links == 0 && is_uploaded_video(&dest_url) =>
            {
                video = Some((dest_url.to_string(), String::new()));
                continue;
            }
            // A link or image to `javascript:` (or any scheme but the web's and mail's) would
            // run or fetch what the writer chose in the reader's page: kept as text-less `#`.
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                links += 1;
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: safe_url(dest_url),
                    title,
                    id,
                })
            }
            Event::End(TagEnd::Link) => {
                links = links.saturating_sub(1);
                Event::End(TagEnd::Link)
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Image {
                link_type,
                dest_url: safe_url(dest_url),
                title,
                id,
            }),
            other => other,
        });
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// One of our uploads that is a video: `/media/<file>` with a video's extension (the upload
/// names its file by the type it sniffed), nothing after it.
fn is_uploaded_video(url: &str) -> bool {
    url.strip_prefix("/media/").is_some_and(|file| {
        let file = file.to_ascii_lowercase();
        !file.contains(['/', '\\', '?', '#']) && (file.ends_with(".mp4") || file.ends_with(".webm"))
    })
}

/// The player for an uploaded video: the browser's own controls, only the file's first part
/// fetched until the reader plays it (`/media` serves byte ranges); the alt text names it and
/// is shown where video is not.
fn video_player(url: &str, alt: &str) -> String {
    use cenacle_domain::html::escape_html;
    let alt = escape_html(alt.trim());
    let label = if alt.is_empty() {
        String::new()
    } else {
        format!(" aria-label=\"{alt}\"")
    };
    format!(
        "<video src=\"{}\" controls preload=\"metadata\"{label}>{alt}</video>",
        escape_html(url)
    )
}

/// A link target members may write: relative, or http(s) or mailto; anything else becomes `#`.
fn safe_url(url: pulldown_cmark::CowStr<'_>) -> pulldown_cmark::CowStr<'_> {
    let scheme_end = url.find([':', '/', '?', '#']);
    let allowed = match scheme_end {
        Some(i) if url[i..].starts_with(':') => {
            let scheme = url[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    };
    if allowed {
        url
    } else {
        "#".into()
    }
}

fn strip_html(html: &str) -> String {
    let with_breaks = html
        .replace("</p>", "\n\n")
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n");
    let mut out = String::new();
    let mut in_tag = false;
    for c in with_breaks.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

/// Who a group's content is addressed to: the public and the group, or only the group and its
/// followers for private groups (never Public).
pub fn audience_of(group: &Group) -> (Vec<Url>, Vec<Url>) {
    let group_id = Url::parse(&group.ap_id).expect("stored ids are URLs");
    let followers = group
        .followers_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .unwrap_or_else(|| Url::parse(&format!("{}/followers", group.ap_id)).expect("valid"));
    if group.visibility == "private" {
        (vec![group_id, followers], vec![])
    } else {
        (
            vec![group_id, Url::parse(PUBLIC).expect("valid")],
            vec![followers],
        )
    }
}

fn url(s: &str) -> Result<Url, ApubError> {
    Url::parse(s).map_err(ApubError::internal)
}

/// The instance base URL of a local group (its id without the `/g/<name>` path).
fn base_of(group: &Group) -> String {
    group
        .ap_id
        .rsplit_once("/g/")
        .map(|(base, _)| base.to_owned())
        .unwrap_or_default()
}

/// Attachments as ActivityPub objects: `Image`/`Video` for our uploads (served at
/// `/media/<file>`), `Document` for a remote post's links.
fn attachment_objects(attachments: Vec<Attachment>, base: &str) -> Vec<serde_json::Value> {
    attachments
        .into_iter()
        .map(|a| match a {
            Attachment::Local(m) => {
                let kind = if m.content_type.starts_with("video/") { "Video" } else { "Image" };
                let mut object = serde_json::json!({"type": kind, "url": format!("{base}/media/{}", m.file_name), "mediaType": m.content_type});
                // `name` is where Mastodon and Lemmy read an attachment's alt text.
                if let Some(description) = m.description {
                    object["name"] = description.into();
                }
                object
            }
            Attachment::Remote(a) => {
                let mut object = serde_json::json!({"type": "Document", "url": a.url, "mediaType": a.media_type});
                if let Some(description) = a.description {
                    object["name"] = description.into();
                }
                object
            }
        })
        .collect()
}

/// Tags the people a text names (see `published::mentioned_people`; `local`: written here,
/// else a bare `@name` is someone on its author's server) whom `tag` does not mention
/// already, so that their servers tell them (Mastodon, Lemmy and Misskey notify from a
/// `Mention` tag naming their member), and puts them in `cc`, as Mastodon addresses the
/// people a post mentions. Not in a private group: a member's server would tell the people
/// it names, members or not (and Mastodon lets them read what mentions them).
pub(crate) async fn tag_mentioned(
    conn: &mut Conn,
    (our_host, text, local): (&str, &str, bool),
    group: &Group,
    tag: &mut Vec<serde_json::Value>,
    cc: &mut Vec<Url>,
) -> Result<(), ApubError> {
    if group.visibility == "private" {
        return Ok(());
    }
    for person in published::mentioned_people(conn, (our_host, local), text).await? {
        let Some(href) = person.ap_id.as_deref() else {
            continue;
        };
        if tag.iter().any(|t| t["href"] == href) {
            continue;
        }
        // As their server names them: `@alice@example.org` for an actor at another host.
        let host = person.handle_host().unwrap_or(our_host);
        let name = format!("@{}@{host}", person.username);
        tag.push(serde_json::json!({"type": "Mention", "href": href, "name": name}));
        cc.extend(Url::parse(href).ok());
    }
    Ok(())
}

/// The `Page` of a post (`our_host`: this instance's, as in handles).
pub async fn page(conn: &mut Conn, our_host: &str, post: &Post) -> Result<ContentJson, ApubError> {
    let facts = published::page_facts(conn, post).await?;
    let group = &facts.group;
    let (to, mut cc) = audience_of(group);
    let group_id = url(&group.ap_id)?;
    // Hashtags, then the state others can display: answered, or the idea's status.
    let mut tag: Vec<serde_json::Value> = post
        .tags
        .iter()
        .map(|t| serde_json::json!({"type": "Hashtag", "name": format!("#{t}")}))
        .collect();
    if facts.accepted_answer_ap_id.is_some() {
        tag.push(crate::objects::group::post_tag(&group_id, "answered"));
    }
    if let Some(status) = post
        .idea_status
        .as_deref()
        .and_then(|s| s.parse::<IdeaStatus>().ok())
    {
        tag.push(crate::objects::group::post_tag(&group_id, status.tag()));
    }
    let text = cenacle_core::notifications::post_text(post);
    tag_mentioned(
        conn,
        (our_host, &text, post.local),
        group,
        &mut tag,
        &mut cc,
    )
    .await?;
    let author = facts
        .author_ap_id
        .ok_or_else(|| ApubError::Internal(format!("person {} has no id", post.author_id)))?;
    Ok(ContentJson {
        kind: ContentKind::Page,
        id: url(&post.ap_id)?,
        attributed_to: url(&author)?,
        name: Some(post.title.clone()),
        content: Some(markdown_to_html(&post.body)),
        media_type: Some("text/html".into()),
        source: Some(Source {
            content: post.body.clone(),
            media_type: "text/markdown".into(),
        }),
        in_reply_to: None,
        to,
        cc,
        audience: Some(group_id),
        tag,
        attachment: attachment_objects(facts.attachments, &base_of(group)),
        published: Some(post.created_at),
        updated: Some(post.updated_at),
        post_kind: Some(post.kind.clone()),
        idea_status: post.idea_status.clone(),
        accepted_answer: facts
            .accepted_answer_ap_id
            .and_then(|a| Url::parse(&a).ok()),
        accepted: None,
    })
}

/// The `Mention` tags a comment's `Note` starts with: the group and the author replied to, so
/// that Mastodon users who reply keep the group in their addressing (INTEROP.md).
pub(crate) fn reply_mentions(
    group: &Group,
    replied_to_author: Option<Author>,
) -> Vec<serde_json::Value> {
    let mut tag = vec![
        serde_json::json!({"type": "Mention", "href": group.ap_id, "name": format!("@{}@{}", group.name, group.instance_host)}),
    ];
    if let Some(a) = replied_to_author {
        let host = a.handle_host.unwrap_or_else(|| group.instance_host.clone());
        if let Some(href) = a.ap_id {
            tag.push(serde_json::json!({"type": "Mention", "href": href, "name": format!("@{}@{host}", a.username)}));
        }
    }
    tag
}

/// The `Note` of a comment or answer of ours (`our_host`: this instance's, as in handles).
pub async fn note(
    conn: &mut Conn,
    our_host: &str,
    comment: &Comment,
) -> Result<ContentJson, ApubError> {
    let facts = published::note_facts(conn, comment).await?;
    let group = &facts.group;
    let (to, mut cc) = audience_of(group);
    let author = facts
        .author_ap_id
        .ok_or_else(|| ApubError::Internal(format!("person {} has no id", comment.author_id)))?;
    let mut tag = reply_mentions(group, facts.replied_to_author);
    let text = (our_host, comment.body.as_str(), comment.local);
    tag_mentioned(conn, text, group, &mut tag, &mut cc).await?;
    Ok(ContentJson {
        kind: ContentKind::Note,
        id: url(&comment.ap_id)?,
        attributed_to: url(&author)?,
        name: None,
        content: Some(markdown_to_html(&comment.body)),
        media_type: Some("text/html".into()),
        source: Some(Source {
            content: comment.body.clone(),
            media_type: "text/markdown".into(),
        }),
        in_reply_to: Url::parse(&facts.in_reply_to).ok(),
        to,
        cc,
        audience: Url::parse(&group.ap_id).ok(),
        tag,
        attachment: vec![],
        published: Some(comment.created_at),
        updated: Some(comment.updated_at),
        post_kind: None,
        idea_status: None,
        accepted_answer: None,
        accepted: (facts.post.accepted_comment_id == Some(comment.id)).then_some(true),
    })
}

/// At most `max` characters: what other servers send is fitted to our limits rather than
/// refused (the peer did nothing wrong, and a thread must not lose a message).
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

impl ContentJson {
    /// The text, or for a message with only pictures (Mastodon), links to them.
    fn body_with(&self, attachments: &[RemoteAttachment]) -> String {
        let text = self.markdown();
        if !text.trim().is_empty() {
            return text;
        }
        attachments
            .iter()
            .map(|a| match &a.media_type {
                Some(t) if t.starts_with("image/") => {
                    // Brackets, a backslash or a blank line would end the Markdown image's
                    // alt text early.
                    let alt = a.description.as_deref().unwrap_or_default();
                    let alt = alt.replace(['[', ']', '\\'], "");
                    let alt = alt.split_whitespace().collect::<Vec<_>>().join(" ");
                    format!("![{alt}]({})", a.url)
                }
                _ => format!("<{}>", a.url),
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// What core takes: this object as a post or a comment, with the addressing of the
    /// activity that carries it (`to`, `cc` of the activity besides the object's own).
    pub fn incoming(&self, activity_to: &[Url], activity_cc: &[Url]) -> IncomingObject {
        let addressing = self
            .addressed()
            .into_iter()
            .chain(activity_to)
            .chain(activity_cc)
            .map(|u| u.to_string())
            .collect();
        // Only Cénacle peers state the group's state of a post (with its kind): others'
        // silence is not "no accepted answer".
        let state = self.post_kind.as_ref().map(|_| GroupState {
            idea_status: self
                .idea_status
                .as_deref()
                .and_then(|s| s.parse::<IdeaStatus>().ok()),
            accepted_answer: self.accepted_answer.as_ref().map(|u| u.to_string()),
        });
        let attachments = self.attachments();
        IncomingObject {
            ap_id: self.id.to_string(),
            attributed_to: self.attributed_to.to_string(),
            in_reply_to: self.in_reply_to.as_ref().map(|u| u.to_string()),
            addressing,
            kind: self
                .post_kind
                .as_deref()
                .and_then(|k| k.parse().ok())
                .unwrap_or(PostKind::Question),
            title: truncate(&self.title(), TITLE_MAX),
            body: truncate(&self.body_with(&attachments), BODY_MAX),
            tags: self.hashtags().into_iter().take(TAGS_MAX).collect(),
            attachments,
            state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_pages_play_uploaded_videos_and_nothing_else() {
        let html = markdown_to_page_html(
            "Watch:\n\n![The *new* filter <fitted>](/media/AbC.mp4)\n\n![A photo](/media/x.png) \
             ![elsewhere](https://example.com/v.mp4) ![tricky](/media/../v.mp4)",
        );
        assert!(
            html.contains(
                r#"<video src="/media/AbC.mp4" controls preload="metadata" aria-label="The new filter &lt;fitted&gt;">The new filter &lt;fitted&gt;</video>"#
            ),
            "{html}"
        );
        assert!(
            html.contains(r#"<img src="/media/x.png" alt="A photo""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<img src="https://example.com/v.mp4""#),
            "{html}"
        );
        assert!(html.contains(r#"<img src="/media/../v.mp4""#), "{html}");
        assert_eq!(html.matches("<video").count(), 1, "{html}");
        // What federates stays an image: other servers strip `<video>` from content.
        assert!(!markdown_to_html("![v](/media/AbC.webm)").contains("<video"));
        assert!(markdown_to_page_html("![v](/media/AbC.WEBM)").contains("<video"));
        // Raw HTML around it is still text; quotes stay inside the attribute.
        assert!(!markdown_to_page_html("<video src=x onerror=alert(1)>").contains("<video"));
        assert!(
            markdown_to_page_html(r#"![say "hi" 'there'](/media/q.mp4)"#)
                .contains(r#"aria-label="say &quot;hi&quot; &#39;there&#39;""#)
        );
        // An image inside the alt text ends with it, not the video's; no player in a link.
        let nested = markdown_to_page_html("![a ![b](/x.png) c](/media/v.mp4) after");
        assert!(
            nested.contains(r#"aria-label="a b c">a b c</video> after"#),
            "{nested}"
        );
        let linked = markdown_to_page_html("[![v](/media/a.mp4)](/elsewhere)");
        assert!(!linked.contains("<video"), "{linked}");
    }

    #[test]
    fn markdown_keeps_raw_html_and_script_links_out() {
        let html = markdown_to_html(
            "<script>alert(1)</script>\n\nSee [a](javascript:alert(1)) [b](JaVaScript:x) \
             ![c](data:text/html,x) [d](https://ok.example/p) [e](/g/x) [f](mailto:a@b.example)",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:text"), "{html}");
        assert!(html.contains(r#"href="https://ok.example/p""#), "{html}");
        assert!(html.contains(r#"href="/g/x""#), "{html}");
        assert!(html.contains(r#"href="mailto:a@b.example""#), "{html}");
    }

    #[test]
    fn what_others_send_is_fitted_to_our_limits() {
        let note: ContentJson = serde_json::from_value(serde_json::json!({
            "type": "Note", "id": "https://m.example/s/1", "attributedTo": "https://m.example/u/a",
            "inReplyTo": "https://c.example/p/1", "content": "",
            "attachment": [{"type": "Document", "mediaType": "image/png", "url": "https://m.example/i.png"}],
            "tag": (0..15).map(|i| serde_json::json!({"type": "Hashtag", "name": format!("#t{i}")})).collect::<Vec<_>>(),
        }))
        .unwrap();
        let incoming = note.incoming(&[], &[]);
        assert_eq!(
            incoming.body, "![](https://m.example/i.png)",
            "a picture-only reply"
        );
        assert_eq!(incoming.tags.len(), TAGS_MAX);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn an_attachments_alt_text_is_kept_bounded_and_sent_on() {
        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 10);
        let note: ContentJson = serde_json::from_value(serde_json::json!({
            "type": "Note", "id": "https://m.example/s/2", "attributedTo": "https://m.example/u/a",
            "inReplyTo": "https://c.example/p/1", "content": "",
            "attachment": [
                {"type": "Document", "mediaType": "image/png", "url": "https://m.example/1.png", "name": " A red [vintage]\\ bicycle\n\n "},
                {"type": "Document", "mediaType": "image/png", "url": "https://m.example/2.png", "name": long},
                {"type": "Document", "mediaType": "image/png", "url": "https://m.example/3.png", "name": ""},
            ],
        }))
        .unwrap();
        let got = note.attachments();
        assert_eq!(
            got[0].description.as_deref(),
            Some("A red [vintage]\\ bicycle")
        );
        assert_eq!(
            got[1].description.as_ref().map(|d| d.chars().count()),
            Some(MAX_DESCRIPTION_CHARS)
        );
        assert_eq!(got[2].description, None);
        // A picture-only reply shows the picture with its alt text.
        assert!(note
            .incoming(&[], &[])
            .body
            .starts_with("![A red vintage bicycle](https://m.example/1.png)"));
        // Relayed on as Mastodon and Lemmy read it.
        let sent = attachment_objects(vec![Attachment::Remote(got[0].clone())], "");
        assert_eq!(sent[0]["name"], "A red [vintage]\\ bicycle");
        assert_eq!(sent[0]["type"], "Document");
    }

    #[test]
    fn html_is_escaped_and_stripped_back() {
        let html = markdown_to_html("Bonjour <b>tous</b> **gras**\n\nSecond & dernier");
        assert_eq!(
            html,
            "<p>Bonjour &lt;b&gt;tous&lt;/b&gt; <strong>gras</strong></p>\n<p>Second &amp; dernier</p>\n"
        );
        assert!(!markdown_to_html("<script>alert(1)</script>").contains("<script>"));
        assert_eq!(
            strip_html("<p>Une <a href=\"x\">question</a> ?</p><p>Oui</p>"),
            "Une question ?\n\nOui"
        );
    }
}
