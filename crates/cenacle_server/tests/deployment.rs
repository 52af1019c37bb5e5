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
