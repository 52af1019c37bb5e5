//! Who a text mentions: `@name` for one of our members, or `@name@host` with this instance's
//! host (as Lemmy writes a mention in Markdown: `[@name@host](https://host/u/name)`).

/// At most this many people are told of one text's mentions: a text naming the whole
/// community is a broadcast, not a mention, and must not become a way to mail everyone.
pub const MENTIONS_MAX: usize = 10;

/// The usernames `text` mentions on this instance (`our_host`: `host` or `host:port`), each
/// once, in the order written, at most [`MENTIONS_MAX`]. An `@` inside a word (an e-mail
/// address, `name@host` without its leading `@`) mentions nobody, nor does a mention of
/// someone on another instance.
pub fn mentioned_usernames(text: &str, our_host: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let host_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':');
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() && names.len() < MENTIONS_MAX {
        let starts_mention = bytes[i] == b'@'
            && (i == 0 || !(name_byte(bytes[i - 1]) || matches!(bytes[i - 1], b'.' | b'-' | b'@')));
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
        let mut ours = true;
        if end < bytes.len() && bytes[end] == b'@' {
            let mut host_end = end + 1;
            while host_end < bytes.len() && host_byte(bytes[host_end]) {
                host_end += 1;
            }
            // A sentence's full stop or colon after the host is not part of it.
            let host = text[end + 1..host_end].trim_end_matches(['.', ':', '-']);
            ours = host.eq_ignore_ascii_case(our_host);
            next = host_end;
        }
        if ours && name.len() >= 3 && !names.contains(&name) {
            names.push(name);
        }
        i = next.max(i + 1);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "community.example";

    #[test]
    fn local_mentions_with_or_without_our_host_are_found_once_in_order() {
        assert_eq!(
            mentioned_usernames(
                "@Ana, what do you think? cc @ben@community.example. And @ana again.",
                HOST
            ),
            vec!["ana", "ben"]
        );
        assert_eq!(
            mentioned_usernames(
                "[@ana@community.example](https://community.example/u/ana)",
                HOST
            ),
            vec!["ana"],
            "Lemmy's Markdown mention"
        );
        assert_eq!(
            mentioned_usernames("ask @ana@localhost:8700: she knows", "localhost:8700"),
            vec!["ana"]
        );
    }

    #[test]
    fn addresses_other_instances_and_short_names_mention_nobody() {
        assert!(mentioned_usernames("write to ana@community.example", HOST).is_empty());
        assert!(mentioned_usernames("@ana@mastodon.social said so", HOST).is_empty());
        assert!(mentioned_usernames("@ and @a and @@ana", HOST).is_empty());
        assert!(mentioned_usernames("x.@ana", HOST).is_empty());
    }

    #[test]
    fn at_most_ten_people_are_mentioned() {
        let text: String = (0..30).map(|n| format!("@member{n} ")).collect();
        let names = mentioned_usernames(&text, HOST);
        assert_eq!(names.len(), MENTIONS_MAX);
        assert_eq!(names[0], "member0");
    }
}
