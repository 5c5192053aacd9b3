//! The embedded default: a private PostgreSQL cluster in a directory of the user's choosing
//! (`./.agent-trace/` by default), created on first use and reused after, with the agent_trace
//! extension created in its `agent_trace` database.
//!
//! It listens on 127.0.0.1 only, with no Unix socket (a socket path inside a deep checkout can exceed
//! the 107-byte limit), and every connection must prove a password (SCRAM): the traced agents run
//! on the same machine, and a cluster that trusted local connections would give any of them the
//! superuser (`COPY ... TO PROGRAM`). The passwords are generated on first use and kept in
//! `DIR/pgpass` (mode 0600, libpq's password-file format, so `psql "...?passfile=DIR/pgpass"`
//! reads it): one for `postgres`, the superuser, one for `agent_trace_ingest`, the login the
//! server writes as, which holds agent_trace_writer only (it can insert, not read or change), and
//! one for `agent_trace_viewer`, the login the viewer reads as, which holds agent_trace_reader only
//! (it can read, not write, and is no superuser).
//! A cluster made by an earlier agent-trace (trusting local connections) is switched over on its
//! next `up`. PostgreSQL refuses to run as root, so as root the server programs run as the
//! `postgres` user (created by Debian's postgresql package), which is given the data directory and
//! the server's log; `DIR` itself and the password file stay the user's (DIR is 0711: the server's
//! user may pass through it to its data, not list it).

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const DATABASE: &str = "agent_trace";
const SERVER_USER: &str = "postgres";
/// The cluster's superuser.
pub const ADMIN_ROLE: &str = "postgres";
/// The login the server writes as: a member of agent_trace_writer and nothing more.
pub const INGEST_ROLE: &str = "agent_trace_ingest";
/// The login the viewer reads as: a member of agent_trace_reader and nothing more.
pub const VIEWER_ROLE: &str = "agent_trace_viewer";
/// Creates (or updates) the viewer's login.
const VIEWER_ROLE_SQL: &str = include_str!("../../../sql/viewer/viewer_role.sql");
/// Creates (or updates) the ingest login; also run by the compose file's database (docker/).
const INGEST_ROLE_SQL: &str = include_str!("../../../sql/ingest/ingest_role.sql");
/// What the cluster accepts: a password, over TCP on 127.0.0.1, from nowhere else.
const PG_HBA: &str = "# agent-trace: every connection proves a password (SCRAM); TCP on 127.0.0.1 only, no Unix socket.
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  scram-sha-256
";

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
    secrets: Secrets,
}

/// The passwords of `DIR/pgpass`.
struct Secrets {
    admin: String,
    ingest: String,
    viewer: String,
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
        // The directory holds the passwords and the data: its owner's alone (but, as root, the
        // server's user may pass through it to the data directory: 0711, nobody may list it).
        let run_as = is_root()?.then_some(SERVER_USER);
        let mode = if run_as.is_some() { 0o711 } else { 0o700 };
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode))
            .map_err(io_context(format!("making {} private", dir.display())))?;
        let secrets = Secrets::load_or_create(&dir.join("pgpass"))?;
        let bindir = run(
            Command::new(&config.pg_config).arg("--bindir"),
            &format!(
                "{} --bindir (is PostgreSQL 15 installed? `make deps` installs it)",
                config.pg_config.display()
            ),
        )?;
        Ok(Self {
            dir,
            port: config.port,
            bindir: PathBuf::from(bindir.trim()),
            run_as,
            secrets,
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

    /// The libpq password file with both passwords (mode 0600).
    pub fn password_file(&self) -> PathBuf {
        self.dir.join("pgpass")
    }

    /// The superuser's connection string, password included: for this process and tests (prices
    /// import, checks), never to print.
    pub fn connection_string(&self) -> String {
        self.url(ADMIN_ROLE, &self.secrets.admin)
    }

    /// The ingest's connection string (agent_trace_ingest), password included; never to print.
    pub fn writer_connection_string(&self) -> String {
        self.url(INGEST_ROLE, &self.secrets.ingest)
    }

    /// The viewer's connection string (agent_trace_viewer), password included; never to print.
    pub fn viewer_connection_string(&self) -> String {
        self.url(VIEWER_ROLE, &self.secrets.viewer)
    }

    /// What a person types: the superuser's connection string that reads the password from
    /// `password_file` (libpq's `passfile`), so no password is printed or typed.
    pub fn psql_connection_string(&self) -> String {
        let passfile = self.password_file();
        format!(
            "postgresql://{ADMIN_ROLE}@127.0.0.1:{}/{DATABASE}?passfile={}",
            self.port,
            percent_encoding::utf8_percent_encode(&passfile.to_string_lossy(), URI_VALUE)
        )
    }

    fn url(&self, role: &str, password: &str) -> String {
        format!(
            "postgresql://{role}:{}@127.0.0.1:{}/{DATABASE}",
            percent_encoding::utf8_percent_encode(password, URI_VALUE),
            self.port
        )
    }

    /// Creates the cluster if missing, starts it if stopped, makes every connection prove a
    /// password (switching over a cluster of an earlier version that trusted them), and creates or
    /// updates the extension and the ingest's login. Safe to run again at any time.
    pub fn up(&self) -> Result<(), ClusterError> {
        if !self.data_dir().join("PG_VERSION").exists() {
            self.initialize()?;
        }
        self.keep_dir_the_users()?;
        if !self.is_running()? {
            self.start()?;
        }
        self.require_passwords()?;
        self.ensure_extension()?;
        self.ensure_login(INGEST_ROLE, &self.secrets.ingest, INGEST_ROLE_SQL)?;
        self.ensure_login(VIEWER_ROLE, &self.secrets.viewer, VIEWER_ROLE_SQL)
    }

    /// The directory and the password file belong to the user who runs `up`; the server's user gets
    /// the data directory and its log, and may pass through the directory (0711) to reach them.
    /// Also puts right a directory an earlier agent-trace gave to the server's user whole.
    fn keep_dir_the_users(&self) -> Result<(), ClusterError> {
        let Some(user) = self.run_as else {
            return Ok(());
        };
        let me = run(Command::new("id").arg("-u"), "id -u")?;
        let me = me.trim();
        run(
            Command::new("chown")
                .arg(me)
                .arg(&self.dir)
                .arg(self.password_file()),
            &format!("giving {} back to uid {me}", self.dir.display()),
        )?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o711)).map_err(io_context(
            format!("setting the mode of {}", self.dir.display()),
        ))?;
        let log = self.log_file();
        if !log.exists() {
            write_private(&log, "")?;
        }
        run(
            Command::new("chown")
                .args(["-R", user])
                .arg(self.data_dir())
                .arg(&log),
            &format!("giving {} to {user}", self.data_dir().display()),
        )
        .map(drop)
    }

    /// Every connection proves a password: the superuser's is set, then pg_hba.conf says so. Only
    /// a cluster whose pg_hba.conf trusts some connection needs it: one from an earlier
    /// agent-trace, which trusted local connections, so the password can be set before it is asked
    /// for. A pg_hba.conf without `trust` is left as it is (ours, or edited by its owner).
    fn require_passwords(&self) -> Result<(), ClusterError> {
        let hba = self.data_dir().join("pg_hba.conf");
        let current =
            fs::read_to_string(&hba).map_err(io_context(format!("reading {}", hba.display())))?;
        let trusts = current
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default())
            .any(|line| line.split_whitespace().any(|field| field == "trust"));
        if !trusts {
            return Ok(());
        }
        let verifier = postgres_protocol::password::scram_sha_256(self.secrets.admin.as_bytes());
        self.psql_stdin(
            "postgres",
            &format!("ALTER ROLE {ADMIN_ROLE} PASSWORD '{verifier}';\n"),
        )
        .map_err(|error| ClusterError::Failed {
            step: format!(
                "requiring passwords in the cluster in {}",
                self.dir.display()
            ),
            detail: format!(
                "{error}\nThe cluster asks for a password that {} does not hold. Put back the \
                 pgpass file this cluster was made with, or remove {} to start over (its data is \
                 lost).",
                self.password_file().display(),
                self.dir.display()
            ),
        })?;
        self.write_server_file(&hba, PG_HBA)?;
        self.psql("postgres", "SELECT pg_reload_conf()")?;
        Ok(())
    }

    /// Creates the login `role` with `password` by `sql` (which sets its rights), or sets its
    /// password again.
    fn ensure_login(&self, role: &str, password: &str, sql: &str) -> Result<(), ClusterError> {
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        let script = format!("\\set role {role}\n\\set password '{verifier}'\n{sql}");
        self.psql_stdin(DATABASE, &script).map(drop)
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
        let data_dir = self.data_dir();
        fs::create_dir_all(&data_dir)
            .map_err(io_context(format!("creating {}", data_dir.display())))?;
        fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o700))
            .map_err(io_context(format!("making {} private", data_dir.display())))?;
        self.keep_dir_the_users()?;
        // The superuser's password for initdb, as its SCRAM verifier: a file only for as long as
        // initdb runs, holding nothing that logs in.
        let pwfile = self.dir.join("initdb-password");
        let verifier = postgres_protocol::password::scram_sha_256(self.secrets.admin.as_bytes());
        self.write_server_file(&pwfile, &verifier)?;
        let initdb = run(
            self.server_program("initdb")
                .arg("-D")
                .arg(&data_dir)
                .args([
                    "-U",
                    ADMIN_ROLE,
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
            &format!(
                "initdb {} (the {} user needs access to every parent directory)",
                data_dir.display(),
                SERVER_USER
            ),
        );
        let _ = fs::remove_file(&pwfile);
        initdb?;
        self.write_server_file(&data_dir.join("pg_hba.conf"), PG_HBA)?;
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
            self.psql_command(database).arg("-c").arg(sql),
            &format!("psql: {sql}"),
        )
    }

    /// psql reading its script from standard input: what holds a password (or its verifier) never
    /// shows in the process list.
    fn psql_stdin(&self, database: &str, script: &str) -> Result<String, ClusterError> {
        let step = "psql (a script on standard input)";
        let mut child = self
            .psql_command(database)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io_context(format!("{step}: could not start psql")))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(io_context(format!("{step}: writing the script")))?;
        }
        let output = child
            .wait_with_output()
            .map_err(io_context(format!("{step}: waiting for psql")))?;
        finished(output, step)
    }

    /// psql as the superuser, its password from the password file.
    fn psql_command(&self, database: &str) -> Command {
        let mut command = Command::new(self.bindir.join("psql"));
        command
            .args([
                "-X",
                "-q",
                "-At",
                "-w",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args(["-U", ADMIN_ROLE])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-d")
            .arg(database)
            .env("PGPASSFILE", self.password_file())
            .env_remove("PGPASSWORD");
        command
    }

    /// A file the server reads (mode 0600), given to the server's user when we are root.
    fn write_server_file(&self, path: &Path, contents: &str) -> Result<(), ClusterError> {
        write_private(path, contents)?;
        if let Some(user) = self.run_as {
            run(
                Command::new("chown").arg(user).arg(path),
                &format!("giving {} to {user}", path.display()),
            )?;
        }
        Ok(())
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

/// Characters of a URI query value left as they are; everything else is percent-encoded.
const URI_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Secrets {
    /// The passwords of `path` (libpq's format), made up for whichever role has none yet; the file
    /// is (re)written, mode 0600, when one was made up.
    fn load_or_create(path: &Path) -> Result<Self, ClusterError> {
        let existing = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(io_context(format!("reading {}", path.display()))(error)),
        };
        let find = |role: &str| {
            existing.lines().find_map(|line| {
                let fields: Vec<&str> = line.splitn(5, ':').collect();
                (fields.len() == 5 && fields[3] == role && !fields[4].is_empty())
                    .then(|| fields[4].to_string())
            })
        };
        let (admin, ingest, viewer) = (find(ADMIN_ROLE), find(INGEST_ROLE), find(VIEWER_ROLE));
        if let (Some(admin), Some(ingest), Some(viewer)) = (&admin, &ingest, &viewer) {
            return Ok(Secrets {
                admin: admin.clone(),
                ingest: ingest.clone(),
                viewer: viewer.clone(),
            });
        }
        let secrets = Secrets {
            admin: admin.map_or_else(random_secret, Ok)?,
            ingest: ingest.map_or_else(random_secret, Ok)?,
            viewer: viewer.map_or_else(random_secret, Ok)?,
        };
        // host:port:database:user:password; generated passwords are hex, which needs no escaping.
        write_private(
            path,
            &format!(
                "# agent-trace up: the passwords of the private cluster (mode 0600; libpq's password file)\n\
                 127.0.0.1:*:*:{ADMIN_ROLE}:{}\n127.0.0.1:*:*:{INGEST_ROLE}:{}\n\
                 127.0.0.1:*:*:{VIEWER_ROLE}:{}\n",
                secrets.admin, secrets.ingest, secrets.viewer
            ),
        )?;
        Ok(secrets)
    }
}

/// 32 random bytes from the kernel, as hex.
fn random_secret() -> Result<String, ClusterError> {
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(io_context("reading /dev/urandom"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a file only its owner may read (0600), replacing it whole (a new file renamed over it).
fn write_private(path: &Path, contents: &str) -> Result<(), ClusterError> {
    let partial = path.with_extension("partial");
    let _ = fs::remove_file(&partial);
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .and_then(|()| fs::rename(&partial, path))
        .map_err(io_context(format!("writing {}", path.display())))
}

/// Runs a command to completion; its stdout on success, else an error with its stderr.
fn run(command: &mut Command, step: &str) -> Result<String, ClusterError> {
    let output: Output = command.output().map_err(io_context(format!(
        "{step}: could not start {:?}",
        command.get_program()
    )))?;
    finished(output, step)
}

fn finished(output: Output, step: &str) -> Result<String, ClusterError> {
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
