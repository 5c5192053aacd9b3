//! The embedded default: a private PostgreSQL cluster in a directory of the user's choosing
//! (`./.agent-trace/` by default), created on first use and reused after, with the agent_trace
//! extension created in its `agent_trace` database.
//!
//! It listens on 127.0.0.1 only, with no Unix socket (a socket path inside a deep checkout can exceed
//! the 107-byte limit), and trusts connections from this machine: it is a development default, not
//! a server to share. PostgreSQL refuses to run as root, so as root the server programs run as the
//! `postgres` user (created by Debian's postgresql package), which is given the directory.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const DATABASE: &str = "agent_trace";
const SERVER_USER: &str = "postgres";

/// Where `up` keeps its cluster unless told otherwise (`--dir`).
pub const DEFAULT_DIR: &str = ".agent-trace";
/// The cluster's port on 127.0.0.1 unless told otherwise (`--pg-port`).
pub const DEFAULT_PORT: u16 = 54329;
/// Debian's PostgreSQL 15, which `make deps` installs; `$PG_CONFIG` names another installation.
pub const DEFAULT_PG_CONFIG: &str = "/usr/lib/postgresql/15/bin/pg_config";

/// The pg_config of the PostgreSQL to run: `$PG_CONFIG`, else `DEFAULT_PG_CONFIG`. The default of
/// `--pg-config`, and what tests and benchmarks use.
pub fn pg_config_from_env() -> PathBuf {
    std::env::var_os("PG_CONFIG")
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_PG_CONFIG), PathBuf::from)
}

pub struct ClusterConfig {
    pub dir: PathBuf,
    pub port: u16,
    pub pg_config: PathBuf,
}

pub struct PrivateCluster {
    dir: PathBuf,
    port: u16,
    bindir: PathBuf,
    /// The system user that runs the server programs when we are root.
    run_as: Option<&'static str>,
}

#[derive(Debug)]
pub enum ClusterError {
    Io { context: String, source: io::Error },
    Failed { step: String, detail: String },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::Io { context, source } => write!(f, "{context}: {source}"),
            ClusterError::Failed { step, detail } => {
                write!(f, "{step} failed:\n{}", detail.trim_end())
            }
        }
    }
}

impl std::error::Error for ClusterError {}

fn io_context(context: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

impl PrivateCluster {
    pub fn new(config: ClusterConfig) -> Result<Self, ClusterError> {
        fs::create_dir_all(&config.dir)
            .map_err(io_context(format!("creating {}", config.dir.display())))?;
        let dir = fs::canonicalize(&config.dir)
            .map_err(io_context(format!("resolving {}", config.dir.display())))?;
        let bindir = run(
            Command::new(&config.pg_config).arg("--bindir"),
            &format!(
                "{} --bindir (is PostgreSQL 15 installed? `make deps` installs it)",
                config.pg_config.display()
            ),
        )?;
        let run_as = is_root()?.then_some(SERVER_USER);
        Ok(Self {
            dir,
            port: config.port,
            bindir: PathBuf::from(bindir.trim()),
            run_as,
        })
    }

    /// The directory of PostgreSQL's programs (`psql`, `pg_dump`, ...) of this cluster's installation.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    pub fn connection_string(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// Creates the cluster if missing, starts it if stopped, and creates or updates the extension.
    /// Safe to run again at any time.
    pub fn up(&self) -> Result<(), ClusterError> {
        if !self.data_dir().join("PG_VERSION").exists() {
            self.initialize()?;
        }
        if !self.is_running()? {
            self.start()?;
        }
        self.ensure_extension()
    }

    pub fn down(&self) -> Result<(), ClusterError> {
        if self.is_running()? {
            let data_dir = self.data_dir();
            run(
                self.server_program("pg_ctl")
                    .arg("stop")
                    .arg("-D")
                    .arg(&data_dir)
                    .args(["-m", "fast", "-w"]),
                "pg_ctl stop",
            )?;
        }
        Ok(())
    }

    fn initialize(&self) -> Result<(), ClusterError> {
        if let Some(user) = self.run_as {
            run(
                Command::new("chown").args(["-R", user]).arg(&self.dir),
                &format!("giving {} to {user}", self.dir.display()),
            )?;
        }
        let data_dir = self.data_dir();
        run(
            self.server_program("initdb")
                .arg("-D")
                .arg(&data_dir)
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]),
            &format!(
                "initdb {} (the {} user needs access to every parent directory)",
                data_dir.display(),
                SERVER_USER
            ),
        )?;
        let settings = "\n# agent-trace: loopback TCP only\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n";
        let conf = data_dir.join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| io::Write::write_all(&mut file, settings.as_bytes()))
            .map_err(io_context(format!("writing {}", conf.display())))
    }

    fn is_running(&self) -> Result<bool, ClusterError> {
        if !self.data_dir().join("PG_VERSION").exists() {
            return Ok(false);
        }
        let output = self
            .server_program("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(self.data_dir())
            .output()
            .map_err(io_context("running pg_ctl status"))?;
        // pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        Ok(output.status.success())
    }

    fn start(&self) -> Result<(), ClusterError> {
        let data_dir = self.data_dir();
        let result = run(
            self.server_program("pg_ctl")
                .arg("start")
                .arg("-D")
                .arg(&data_dir)
                .arg("-l")
                .arg(self.log_file())
                .args(["-w", "-o"])
                .arg(format!("-p {}", self.port)),
            "pg_ctl start",
        );
        result.map(drop).map_err(|error| ClusterError::Failed {
            step: format!("starting PostgreSQL on 127.0.0.1:{}", self.port),
            detail: format!(
                "{error}\n--- last lines of {} ---\n{}",
                self.log_file().display(),
                tail(&self.log_file(), 15)
            ),
        })
    }

    fn ensure_extension(&self) -> Result<(), ClusterError> {
        let exists = self.psql(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"),
        )?;
        if exists.trim().is_empty() {
            self.psql("postgres", &format!("CREATE DATABASE {DATABASE}"))?;
        }
        self.psql(DATABASE, "CREATE EXTENSION IF NOT EXISTS agent_trace")
            .map_err(|error| ClusterError::Failed {
                step: "creating the agent_trace extension".into(),
                detail: format!("{error}\nIs the extension installed? `make install-extension` builds and installs it."),
            })?;
        self.psql(DATABASE, "ALTER EXTENSION agent_trace UPDATE")?;
        Ok(())
    }

    fn psql(&self, database: &str, sql: &str) -> Result<String, ClusterError> {
        run(
            Command::new(self.bindir.join("psql"))
                .args([
                    "-X",
                    "-q",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                ])
                .arg("-p")
                .arg(self.port.to_string())
                .arg("-d")
                .arg(database)
                .arg("-c")
                .arg(sql),
            &format!("psql: {sql}"),
        )
    }

    /// A PostgreSQL server program, run as the server user when we are root.
    fn server_program(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }
}

/// Runs a command to completion; its stdout on success, else an error with its stderr.
fn run(command: &mut Command, step: &str) -> Result<String, ClusterError> {
    let output: Output = command.output().map_err(io_context(format!(
        "{step}: could not start {:?}",
        command.get_program()
    )))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(ClusterError::Failed {
            step: step.to_string(),
            detail: format!(
                "{}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

fn is_root() -> Result<bool, ClusterError> {
    Ok(run(Command::new("id").arg("-u"), "id -u")?.trim() == "0")
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
