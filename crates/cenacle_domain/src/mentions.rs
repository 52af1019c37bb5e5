//! Who a text mentions: `@name` for one of our members, or `@name@host` with this instance's
//! host (as Lemmy writes a mention in Markdown: `[@name@host](https://host/u/name)`).
//!
//! Only where a person writes one: at the start of the text, after a space or an opening
//! bracket — not inside a word, an address, a URL (`https://host/@name`) or code.

/// At most this many people are told of one text's mentions: a text naming the whole
/// community is a broadcast, not a mention, and must not become a way to mail everyone.
pub const MENTIONS_MAX: usize = 10;

/// Whose name a mention without a host stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareNames {
    /// Text written here: `@name` is one of our members.
    Ours,
    /// Text from another instance: `@name` is someone there (Mastodon's HTML mentions lose
    /// their host when made plain text), so only `@name@our-host` is ours.
    Theirs,
}

/// Someone a text mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    /// Lower-cased.
    pub name: String,
    /// None: one of our members; else the host they are on (`host` or `host:port`,
    /// lower-cased).
    pub host: Option<String>,
}

/// The usernames `text` mentions on this instance (`our_host`: `host` or `host:port`), each
/// once, in the order written, at most [`MENTIONS_MAX`]. An `@` inside a word (an e-mail
/// address, a URL), inside code (`` `…` `` or a fenced block), or a mention of someone on
/// another instance mentions nobody here.
pub fn mentioned_usernames(text: &str, our_host: &str, bare: BareNames) -> Vec<String> {
    scan(text, our_host, bare, |h| h.host.is_none())
        .into_iter()
        .map(|h| h.name)
        .collect()
}

/// Everyone `text` mentions, here or on another instance (`@name@host`), found as
/// [`mentioned_usernames`] finds ours: each once, in the order written, at most
/// [`MENTIONS_MAX`]. What a post sent to other servers tags, so that theirs are told too.
pub fn mentioned_handles(text: &str, our_host: &str, bare: BareNames) -> Vec<Handle> {
    scan(text, our_host, bare, |_| true)
}

/// The handles of `text` that `keep` keeps, outside code, at most [`MENTIONS_MAX`].
fn scan(
    text: &str,
    our_host: &str,
    bare: BareNames,
    keep: impl Fn(&Handle) -> bool,
) -> Vec<Handle> {
    let mut found: Vec<Handle> = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Outside inline code: the even pieces between backticks.
        for (i, piece) in line.split('`').enumerate() {
            if i % 2 == 0 {
                mentions_in(piece, our_host, bare, &keep, &mut found);
            }
        }
    }
    found
}

fn mentions_in(
    text: &str,
    our_host: &str,
    bare: BareNames,
    keep: &impl Fn(&Handle) -> bool,
    found: &mut Vec<Handle>,
) {
    let bytes = text.as_bytes();
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let host_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':');
    let mut i = 0;
    while i < bytes.len() && found.len() < MENTIONS_MAX {
        let starts_mention = bytes[i] == b'@'
            && (i == 0
                || bytes[i - 1].is_ascii_whitespace()
                || matches!(bytes[i - 1], b'(' | b'['));
        if !starts_mention {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && name_byte(bytes[end]) {
            end += 1;
        }
        let name = text[start..end].to_ascii_lowercase();
        let mut next = end;
        let mut host = match bare {
            BareNames::Ours => None,
            // Someone on the writer's instance, which we cannot name: nobody we can tag.
            BareNames::Theirs => Some(String::new()),
        };
        if end < bytes.len() && bytes[end] == b'@' {
            let mut host_end = end + 1;
            while host_end < bytes.len() && host_byte(bytes[host_end]) {
                host_end += 1;
            }
            // A sentence's full stop or colon after the host is not part of it.
            let written = text[end + 1..host_end].trim_end_matches(['.', ':', '-']);
            host = (!written.eq_ignore_ascii_case(our_host)).then(|| written.to_ascii_lowercase());
            next = host_end;
        }
        // Our usernames have three characters at least; a host is a name with a dot or a
        // port (not `@ana@` nor `@ana@x`).
        let named = match &host {
            None => name.len() >= 3,
            Some(h) => !name.is_empty() && (h.contains('.') || h.contains(':')),
        };
        let handle = Handle { name, host };
        if named && keep(&handle) && !found.contains(&handle) {
            found.push(handle);
        }
        i = next.max(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "community.example";

    fn ours(text: &str) -> Vec<String> {
        mentioned_usernames(text, HOST, BareNames::Ours)
    }

    #[test]
    fn local_mentions_with_or_without_our_host_are_found_once_in_order() {
        assert_eq!(
            ours("@Ana, what do you think? cc @ben@community.example. And @ana again."),
            vec!["ana", "ben"]
        );
        assert_eq!(
            ours("[@ana@community.example](https://community.example/u/ana)"),
            vec!["ana"],
            "Lemmy's Markdown mention"
        );
        assert_eq!(
            mentioned_usernames(
                "ask @ana@localhost:8700: she knows",
                "localhost:8700",
                BareNames::Ours
            ),
            vec!["ana"]
        );
        assert_eq!(ours("(@ana)\n@ben"), vec!["ana", "ben"]);
    }

    #[test]
    fn addresses_urls_code_other_instances_and_short_names_mention_nobody() {
        for text in [
            "write to ana@community.example",
            "@ana@mastodon.social said so",
            "@ and @a and @@ana",
            "x.@ana",
            "see https://mastodon.social/@ana and [her](https://host/@ana)",
            "use `@ana` in the template",
            "```\n@ana in a fenced block\n```",
        ] {
            assert!(ours(text).is_empty(), "{text}");
        }
        assert_eq!(ours("```\n@ana\n```\nthen @ben"), vec!["ben"]);
    }

    /// From another instance, `@name` is someone there: only our host makes it ours.
    #[test]
    fn in_a_remote_text_only_a_mention_with_our_host_is_ours() {
        let theirs = |text| mentioned_usernames(text, HOST, BareNames::Theirs);
        assert!(theirs("thanks @ana").is_empty());
        assert_eq!(theirs("thanks @ana@community.example"), vec!["ana"]);
    }

    #[test]
    fn people_on_other_instances_are_mentioned_with_their_host() {
        let handle = |name: &str, host: Option<&str>| Handle {
            name: name.into(),
            host: host.map(Into::into),
        };
        assert_eq!(
            mentioned_handles(
                "@Ana and @Bob@Mastodon.Social: ask @li@lemmy.test:8080 (not `@eve@x.org`)",
                HOST,
                BareNames::Ours
            ),
            vec![
                handle("ana", None),
                handle("bob", Some("mastodon.social")),
                handle("li", Some("lemmy.test:8080"))
            ]
        );
        // From another instance, a bare name is someone there we cannot name.
        assert_eq!(
            mentioned_handles("@zoe and @ana@community.example", HOST, BareNames::Theirs),
            vec![handle("ana", None)]
        );
        assert!(
            mentioned_handles("mail ana@mastodon.social or @x@y", HOST, BareNames::Ours).is_empty()
        );
    }

    #[test]
    fn at_most_ten_people_are_mentioned() {
        let text: String = (0..30).map(|n| format!("@member{n} ")).collect();
        let names = ours(&text);
        assert_eq!(names.len(), MENTIONS_MAX);
        assert_eq!(names[0], "member0");
    }
}
