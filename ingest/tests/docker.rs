//! docker/ cannot be run here (no Docker engine; `scripts/lint-docker.sh` lints it), so this checks
//! that it says what the tested native steps do: the compose file sets only settings the binary
//! reads and runs only its commands, the database image runs the SQL `agent-trace up` runs for the
//! ingest's login, the images install what `scripts/install-deps.sh` installs, no password goes in
//! a URL, and the build context leaves out build output and local clusters.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_agent-trace");

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn help(args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(args)
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(output.status.success(), "{args:?} --help");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The lines of one service of docker/compose.yaml (indented under `  NAME:`).
fn service(compose: &str, name: &str) -> Vec<String> {
    let header = format!("  {name}:");
    compose
        .lines()
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| line.starts_with("    ") || line.trim().is_empty())
        .map(String::from)
        .collect()
}

/// The `KEY: value` lines under a service's `environment:`.
fn environment(service: &[String]) -> Vec<(String, String)> {
    service
        .iter()
        .skip_while(|line| line.trim() != "environment:")
        .skip(1)
        .take_while(|line| line.starts_with("      "))
        .filter_map(|line| {
            let (key, value) = line.trim().split_once(": ")?;
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

/// The strings of a `["a", "b"]` list.
fn list(line: &str) -> Vec<String> {
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn the_compose_file_sets_only_what_the_binary_reads() {
    let compose = repo_file("docker/compose.yaml");
    let ingest = service(&compose, "ingest");
    assert!(!ingest.is_empty());
    let serve_help = help(&["serve"]);
    let env = environment(&ingest);
    assert!(env.len() >= 4, "{env:?}");
    for (key, _) in &env {
        assert!(
            // `[env: NAME=default]`, or `[env: NAME]` for values kept out of the help.
            serve_help.contains(&format!("[env: {key}="))
                || serve_help.contains(&format!("[env: {key}]")),
            "docker/compose.yaml gives the ingest {key}, which `agent-trace serve` does not read"
        );
    }
    let command = ingest
        .iter()
        .find(|line| line.trim().starts_with("command:"))
        .map(|line| list(line))
        .expect("a command");
    assert_eq!(command[0], "serve");
    for flag in command.iter().filter(|arg| arg.starts_with("--")) {
        assert!(
            serve_help.contains(&format!("{flag} ")),
            "serve has no {flag}"
        );
    }
    // The healthcheck is the probe, of the port the server listens on.
    let check = ingest
        .iter()
        .find(|line| line.trim().starts_with("test:"))
        .map(|line| list(line))
        .expect("a healthcheck");
    assert_eq!(check[..3], ["CMD", "agent-trace", "probe"]);
    help(&["probe"]);
    let listen = command
        .iter()
        .skip_while(|arg| *arg != "--listen")
        .nth(1)
        .expect("--listen");
    let port = listen.rsplit(':').next().unwrap();
    assert_eq!(check[3], format!("http://127.0.0.1:{port}/ready"));

    // Both services restart; the database is healthy only once its real server listens on TCP.
    let db = service(&compose, "db");
    for (name, lines) in [("db", &db), ("ingest", &ingest)] {
        assert!(
            lines.iter().any(|l| l.trim() == "restart: unless-stopped"),
            "{name} has no restart policy"
        );
    }
    let db_check = db
        .iter()
        .find(|line| line.trim().starts_with("test:"))
        .map(|line| list(line))
        .expect("the database's healthcheck");
    assert!(
        db_check.windows(2).any(|w| w == ["--host", "127.0.0.1"]),
        "{db_check:?}"
    );
}

#[test]
fn secrets_stay_out_of_urls_and_the_ingest_logs_in_as_the_insert_only_login() {
    let compose = repo_file("docker/compose.yaml");
    let env = environment(&service(&compose, "ingest"));
    let value = |key: &str| {
        env.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("the ingest has no {key}"))
    };
    let role = ingest::cli::cluster::INGEST_ROLE;
    let url = value("DATABASE_URL");
    assert!(
        url.starts_with(&format!("postgresql://{role}@db:")),
        "no password in the URL, the login of `up`: {url}"
    );
    assert!(
        !compose.contains("PASSWORD}@"),
        "a password pasted into a URL"
    );
    assert_eq!(
        value("DATABASE_PASSWORD_FILE"),
        "/run/secrets/ingest_password"
    );
    assert_eq!(
        value("AGENT_TRACE_TOKEN_FILE"),
        "/run/secrets/agent_trace_token"
    );
    for secret in ["postgres_password", "ingest_password", "agent_trace_token"] {
        assert!(
            compose.contains(&format!("  {secret}:\n    environment: ")),
            "secret {secret}"
        );
    }

    // The database's first start creates that login with the SQL `up` runs for it.
    let init = repo_file("docker/initdb/20-ingest-role.sh");
    assert!(init.contains(&format!("--set role={role} ")), "{init}");
    assert!(init.contains("/run/secrets/ingest_password"));
    let image = repo_file("docker/postgres.Dockerfile");
    let installed = "/usr/local/share/agent-trace/ingest_role.sql";
    assert!(image.contains(&format!("COPY sql/ingest/ingest_role.sql {installed}")));
    assert!(init.contains(&format!("--file {installed}")));
    assert!(
        repo_file("ingest/src/cli/cluster.rs")
            .contains(r#"include_str!("../../../sql/ingest/ingest_role.sql")"#)
    );
    assert!(repo_file("docker/initdb/10-agent-trace.sql").contains("CREATE EXTENSION"));
}

#[test]
fn the_images_are_built_as_the_native_steps_build() {
    let deps = repo_file("scripts/install-deps.sh");
    let packages: Vec<&str> = deps
        .lines()
        .find_map(|line| line.strip_prefix("APT_PACKAGES=("))
        .expect("APT_PACKAGES")
        .trim_end_matches(')')
        .split_whitespace()
        .collect();
    let pgrx = deps
        .lines()
        .find_map(|line| line.strip_prefix("PGRX_VERSION="))
        .expect("PGRX_VERSION");
    let image = repo_file("docker/postgres.Dockerfile");
    let apt_line = image
        .lines()
        .find(|line| line.contains("apt-get install"))
        .expect("apt-get install");
    for package in apt_line
        .split_whitespace()
        .skip_while(|w| *w != "--no-install-recommends")
        .skip(1)
        .filter(|w| *w != "\\")
    {
        assert!(
            packages.contains(&package),
            "{package} is not in install-deps.sh"
        );
    }
    assert!(image.contains(&format!(
        "cargo install cargo-pgrx --version {pgrx} --locked"
    )));

    let rust = repo_file("Cargo.toml")
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = "))
        .expect("rust-version")
        .trim_matches('"')
        .to_string();
    // The Citus image builds the extension exactly as the plain one does.
    let postgres = repo_file("docker/postgres.Dockerfile");
    let build_stage = &postgres[postgres.find("FROM rust:").expect("a build stage")
        ..postgres.find("\nFROM postgres:").expect("the final stage")];
    assert!(
        repo_file("docker/citus.Dockerfile").contains(build_stage),
        "docker/citus.Dockerfile builds agent_trace otherwise than docker/postgres.Dockerfile"
    );
    for dockerfile in [
        "docker/postgres.Dockerfile",
        "docker/ingest.Dockerfile",
        "docker/citus.Dockerfile",
    ] {
        let text = repo_file(dockerfile);
        assert!(
            text.contains(&format!("FROM rust:{rust}-bookworm AS build")),
            "{dockerfile}"
        );
        for line in text
            .lines()
            .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
        {
            let source = line.split_whitespace().nth(1).unwrap();
            if source != "." {
                assert!(
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("..")
                        .join(source)
                        .exists(),
                    "{dockerfile}: {source} does not exist"
                );
            }
        }
    }
    let ingest_image = repo_file("docker/ingest.Dockerfile");
    assert!(ingest_image.contains("cargo build --release --locked -p ingest"));
    // The server runs as a user of its own, not root.
    let user = ingest_image
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("a USER");
    assert!(user != "root" && user != "0", "USER {user}");

    let ignored: Vec<String> = repo_file(".dockerignore")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(String::from)
        .collect();
    for must in ["target/", ".agent-trace/", ".venv-test-clients/", ".git/"] {
        assert!(
            ignored.iter().any(|line| line == must),
            ".dockerignore misses {must}"
        );
    }
}
