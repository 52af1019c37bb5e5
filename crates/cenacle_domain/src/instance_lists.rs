//! Which instances we talk to: one rule for the configured block and allow lists, read alike
//! by the inbox, the delivery worker and the queue (`cenacle_core::federation`), so that no
//! path lets in an instance another keeps out.

/// Whether a configured list of instances (`federation.blocked_instances`,
/// `federation.allowed_instances`) names `host`: case-insensitively, with its port or as the
/// bare host name (an admin writes `lemmy.example`; test peers and some servers have ports).
pub fn names(list: &[String], host: &str) -> bool {
    let bare = host.split(':').next().unwrap_or(host);
    list.iter()
        .any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(bare))
}

/// Whether allow-list mode keeps `host` out: unless it is us, named in the configured allow
/// list, or allowed by an admin (`allowed_by_admin`). Only asked when the mode is on.
pub fn outside_allow_list(
    configured: &[String],
    is_us: bool,
    host: &str,
    allowed_by_admin: bool,
) -> bool {
    !(is_us || allowed_by_admin || names(configured, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(hosts: &[&str]) -> Vec<String> {
        hosts.iter().map(|h| (*h).to_owned()).collect()
    }

    #[test]
    fn a_list_names_a_host_with_or_without_its_port_in_any_case() {
        let configured = list(&["Lemmy.Example", "beta.test:8443"]);
        assert!(names(&configured, "lemmy.example"));
        assert!(names(&configured, "lemmy.example:8536"));
        assert!(names(&configured, "beta.test:8443"));
        assert!(!names(&configured, "beta.test:9000"));
        assert!(!names(&configured, "evil.example"));
        assert!(!names(&configured, "sub.lemmy.example"));
    }

    #[test]
    fn allow_list_mode_lets_in_us_the_listed_and_the_admin_allowed_only() {
        let configured = list(&["lemmy.example"]);
        assert!(!outside_allow_list(
            &configured,
            false,
            "lemmy.example:443",
            false
        ));
        assert!(!outside_allow_list(&configured, true, "us.example", false));
        assert!(!outside_allow_list(
            &configured,
            false,
            "friend.example",
            true
        ));
        assert!(outside_allow_list(
            &configured,
            false,
            "evil.example",
            false
        ));
    }
}
