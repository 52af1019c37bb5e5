//! Rules of a group's approval queue (whose post waits for a moderator) and of instance
//! moderation (how an admin names an instance). Reasons and expiries are checked by
//! [`crate::moderation`].

use crate::ValidationError;

/// A group's approval settings (off unless a moderator turns it on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApprovalSettings {
    pub enabled: bool,
    /// A member's first this many posts in the group wait.
    pub first_posts: i32,
    /// Posts of members below this reputation wait.
    pub min_reputation: i64,
}

/// What is known of a post's author when the post arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Author {
    /// Owner or moderator of the group (or a community manager): never held.
    pub moderates: bool,
    /// Their posts already published in this group.
    pub published_posts: i64,
    pub reputation: i64,
    /// Their instance is limited by our admins: every post of theirs waits, whatever the
    /// group's settings.
    pub instance_limited: bool,
}

/// Whether a new post waits for a moderator's approval.
pub fn needs_approval(settings: ApprovalSettings, author: Author) -> bool {
    if author.moderates {
        return false;
    }
    if author.instance_limited {
        return true;
    }
    settings.enabled
        && (author.published_posts < i64::from(settings.first_posts)
            || author.reputation < settings.min_reputation)
}

pub fn validate_approval_settings(settings: ApprovalSettings) -> Result<(), ValidationError> {
    if !(0..=1000).contains(&settings.first_posts) {
        return Err(ValidationError {
            field: "first_posts",
            code: "out_of_range",
        });
    }
    if settings.min_reputation < 0 {
        return Err(ValidationError {
            field: "min_reputation",
            code: "out_of_range",
        });
    }
    Ok(())
}

/// An instance as an admin names it: a host name, with `:port` when it has one, lowercased.
pub fn normalise_host(host: &str) -> Result<String, ValidationError> {
    let host = host.trim().to_ascii_lowercase();
    let invalid = ValidationError {
        field: "host",
        code: "invalid",
    };
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host.as_str(), None),
    };
    if name.is_empty()
        || name.len() > 253
        || name.starts_with(['.', '-'])
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(invalid);
    }
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(invalid);
        }
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Author {
        Author {
            moderates: false,
            published_posts: 0,
            reputation: 0,
            instance_limited: false,
        }
    }

    fn on(first_posts: i32, min_reputation: i64) -> ApprovalSettings {
        ApprovalSettings {
            enabled: true,
            first_posts,
            min_reputation,
        }
    }

    #[test]
    fn first_posts_wait_until_enough_were_published() {
        assert!(needs_approval(on(2, 0), member()));
        let one = Author {
            published_posts: 1,
            ..member()
        };
        assert!(needs_approval(on(2, 0), one));
        let two = Author {
            published_posts: 2,
            ..member()
        };
        assert!(!needs_approval(on(2, 0), two));
    }

    #[test]
    fn low_reputation_waits_and_off_means_off() {
        let low = Author {
            published_posts: 10,
            reputation: 4,
            ..member()
        };
        assert!(needs_approval(on(0, 5), low));
        assert!(!needs_approval(on(0, 4), low));
        assert!(!needs_approval(ApprovalSettings::default(), member()));
    }

    #[test]
    fn limited_instances_always_wait_and_moderators_never() {
        let limited = Author {
            instance_limited: true,
            published_posts: 100,
            reputation: 1000,
            ..member()
        };
        assert!(needs_approval(ApprovalSettings::default(), limited));
        let moderator = Author {
            moderates: true,
            ..limited
        };
        assert!(!needs_approval(on(5, 5), moderator));
    }

    #[test]
    fn hosts_are_names_with_an_optional_port() {
        assert_eq!(normalise_host("Lemmy.World").unwrap(), "lemmy.world");
        assert_eq!(normalise_host("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        for bad in ["", "a b", "x:0", "x:99999", "/etc", ".x", "a@b"] {
            assert!(normalise_host(bad).is_err(), "{bad}");
        }
    }
}
