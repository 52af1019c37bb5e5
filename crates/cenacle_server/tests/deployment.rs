//! The deployment files parse and agree with the binary (no container engine runs here).

use serde_norway::Value;
use std::path::Path;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path),
    )
    .unwrap()
}

#[test]
fn the_compose_file_runs_postgres_a_server_and_a_delivery_worker() {
    let compose: Value = serde_norway::from_str(&repo_file("docker/docker-compose.yml")).unwrap();
    let services = &compose["services"];
    assert!(services["postgres"]["image"]
        .as_str()
        .unwrap()
        .starts_with("postgres:"));
    assert_eq!(services["server"]["command"][0], Value::from("serve"));
    assert_eq!(services["worker"]["command"][0], Value::from("deliver"));
    for name in ["server", "worker"] {
        let env = &services[name]["environment"];
        let url = env["DATABASE_URL"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no DATABASE_URL"));
        assert!(
            url.starts_with("postgres://") && url.contains("@postgres/"),
            "{name}: {url}"
        );
        // Every CENACLE_ variable names a real configuration key.
        for (key, value) in env.as_mapping().unwrap() {
            let key = key.as_str().unwrap();
            if key.starts_with("CENACLE_") {
                let value = value.as_str().unwrap().replace(
                    "${PUBLIC_URL:-http://localhost:8700}",
                    "http://localhost:8700",
                );
                cenacle_config::Settings::load(None, [(key.to_owned(), value)])
                    .unwrap_or_else(|e| panic!("{name}: {key}: {e}"));
            }
        }
    }
}

/// The server trusts `X-Forwarded-For` from the bridge's gateway only (the host's reverse
/// proxy), so its port must not be reachable from elsewhere: published on loopback only.
#[test]
fn the_compose_file_trusts_only_its_proxy_and_keeps_the_port_private() {
    let compose: Value = serde_norway::from_str(&repo_file("docker/docker-compose.yml")).unwrap();
    let server = &compose["services"]["server"];
    let proxies = server["environment"]["CENACLE_SERVER__TRUSTED_PROXIES"]
        .as_str()
        .expect("the server trusts its proxy");
    let gateway = compose["networks"]["default"]["ipam"]["config"][0]["gateway"]
        .as_str()
        .unwrap();
    assert_eq!(proxies, format!("[\"{gateway}\"]"));
    for port in server["ports"].as_sequence().unwrap() {
        let port = port.as_str().unwrap();
        assert!(
            port.starts_with("127.0.0.1:"),
            "published beyond loopback: {port}"
        );
        assert!(!port.contains("9700"), "metrics published: {port}");
    }
}

#[test]
fn the_dockerfile_is_multi_stage_and_serves_on_8700() {
    let dockerfile = repo_file("docker/Dockerfile");
    assert!(
        dockerfile
            .lines()
            .filter(|l| l.starts_with("FROM "))
            .count()
            >= 2
    );
    assert!(dockerfile.contains("EXPOSE 8700"));
    assert!(dockerfile.contains("CENACLE_SERVER__BIND=0.0.0.0:8700"));
}

fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The `.dockerignore` rules: Docker's patterns, without `!` exceptions (so an ignored folder
/// is ignored whole). `*` and `?` stay within one path segment, `**` spans any number.
fn docker_ignore_rules() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(repo_root().join(".dockerignore")).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            assert!(
                !l.starts_with('!'),
                "this test does not model .dockerignore exceptions: {l}"
            );
            l.trim_start_matches('/')
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn glob_segment(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_segment(&pattern[1..], name)
                || (!name.is_empty() && glob_segment(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => glob_segment(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => glob_segment(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// Whether `rule` matches `path` or one of its parent folders (which excludes what it holds).
fn rule_matches(rule: &[String], path: &[&str]) -> bool {
    match rule.first().map(String::as_str) {
        None => true,
        Some("**") => (0..=path.len()).any(|skip| rule_matches(&rule[1..], &path[skip..])),
        Some(segment) => {
            !path.is_empty()
                && glob_segment(segment.as_bytes(), path[0].as_bytes())
                && rule_matches(&rule[1..], &path[1..])
        }
    }
}

/// The build context as Docker sends it from a checkout: the files git knows of (tracked, or
/// new and not ignored), less what `.dockerignore` leaves out.
fn docker_context() -> Vec<String> {
    let out = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(repo_root())
        .output()
        .expect("git lists the checkout's files");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules = docker_ignore_rules();
    let mut files: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter(|f| !f.is_empty() && repo_root().join(f).is_file())
        .filter(|f| {
            let segments: Vec<&str> = f.split('/').collect();
            !rules.iter().any(|rule| rule_matches(rule, &segments))
        })
        .map(str::to_owned)
        .collect();
    files.sort();
    files.dedup();
    files
}

/// The `COPY` instructions of the build stage (the first), as (sources, destination).
fn build_stage_copies(dockerfile: &str) -> Vec<(Vec<String>, String)> {
    let mut copies = Vec::new();
    let mut stages = 0;
    for line in dockerfile.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("FROM") => stages += 1,
            Some("COPY") if stages == 1 => {
                let args: Vec<String> = words
                    .filter(|w| !w.starts_with("--"))
                    .map(str::to_owned)
                    .collect();
                assert!(
                    !line.contains('[') && !line.contains('\\'),
                    "write build-stage COPY lines on one line, without the JSON form: {line}"
                );
                let (dest, sources) = args.split_last().expect("COPY has a destination");
                copies.push((sources.to_vec(), dest.clone()));
            }
            _ => {}
        }
    }
    assert_eq!(stages, 2, "a build stage and a runtime stage");
    copies
}

/// `docker build` fails if the build stage lacks a workspace member ("failed to load manifest
/// for workspace member api_tests"). No container engine runs here, so the build stage's
/// files are laid out in a temporary folder exactly as its `COPY` lines (through
/// `.dockerignore`) would, and cargo resolves the workspace there, offline, from the lock file
/// (`--locked`: a lock file that does not match the copied members fails too).
#[test]
fn the_docker_build_stage_copies_what_the_workspace_needs() {
    let dockerfile = repo_file("docker/Dockerfile");
    assert!(
        dockerfile.contains("WORKDIR /src") && dockerfile.contains("--locked"),
        "the build runs in /src, from the lock file"
    );
    let context = docker_context();
    let stage = tempfile::tempdir().unwrap();
    for (sources, dest) in build_stage_copies(&dockerfile) {
        let dest = dest.trim_start_matches("/src").trim_start_matches('/');
        for source in sources {
            let source = source.trim_start_matches("./").trim_end_matches('/');
            let whole = source == "." || source.is_empty();
            for file in &context {
                let inside = if whole {
                    Some(file.as_str())
                } else if file == source {
                    // A single file: into the destination folder, under its own name.
                    Some(file.rsplit('/').next().unwrap())
                } else {
                    file.strip_prefix(&format!("{source}/"))
                };
                let Some(inside) = inside else { continue };
                let target = stage.path().join(dest).join(inside);
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::copy(repo_root().join(file), &target).unwrap();
            }
        }
    }
    assert!(
        !stage.path().join("target").exists() && !stage.path().join("data").exists(),
        "build output and local data stay out of the image's context"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        // Offline, only the packages of the image's platform are at hand (not Android's…).
        .arg("--filter-platform")
        .arg(format!("{}-unknown-linux-gnu", std::env::consts::ARCH))
        .current_dir(stage.path())
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata on the build stage's files: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_dockerignore_patterns_match_as_docker_does() {
    let rule = |r: &str| -> Vec<String> { r.split('/').map(str::to_owned).collect() };
    assert!(rule_matches(
        &rule("target"),
        &["target", "debug", "cenacle"]
    ));
    assert!(!rule_matches(&rule("target"), &["crates", "target"]));
    assert!(rule_matches(
        &rule("**/node_modules"),
        &["scripts", "interop", "node_modules", "x.js"]
    ));
    assert!(rule_matches(
        &rule("**/node_modules"),
        &["node_modules", "x.js"]
    ));
    assert!(rule_matches(&rule("*.log"), &["server.log"]));
    assert!(!rule_matches(&rule("*.log"), &["logs", "server.txt"]));
}
