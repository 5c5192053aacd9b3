//! `agent-trace`: receives OpenTelemetry traces and stores them in PostgreSQL.
//!
//! Today it manages the embedded default, a private PostgreSQL 15 cluster with the agent_trace
//! extension; the OTLP receiver (`serve`) is the next piece.

mod cluster;

use clap::{Args, Parser, Subcommand};
use cluster::{ClusterConfig, PrivateCluster};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "agent-trace",
    version,
    about = "A Postgres-native trace store for AI agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the embedded default: a private PostgreSQL 15 cluster (created on first run, reused
    /// after) with the agent_trace extension, then print how to connect.
    Up(ClusterArgs),
    /// Stop the private cluster started by `up`. Its data stays for the next `up`.
    Down(ClusterArgs),
}

#[derive(Args)]
struct ClusterArgs {
    /// Directory of the private cluster.
    #[arg(long, env = "AGENT_TRACE_DIR", default_value = ".agent-trace")]
    dir: PathBuf,
    /// TCP port the cluster listens on, on 127.0.0.1 only.
    #[arg(long, env = "AGENT_TRACE_PG_PORT", default_value_t = 54329)]
    pg_port: u16,
    /// pg_config of the PostgreSQL installation to run.
    #[arg(
        long,
        env = "PG_CONFIG",
        default_value = "/usr/lib/postgresql/15/bin/pg_config"
    )]
    pg_config: PathBuf,
}

impl ClusterArgs {
    fn cluster(&self) -> Result<PrivateCluster, cluster::ClusterError> {
        PrivateCluster::new(ClusterConfig {
            dir: self.dir.clone(),
            port: self.pg_port,
            pg_config: self.pg_config.clone(),
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Up(args) => args.cluster().and_then(|cluster| {
            cluster.up()?;
            println!(
                "PostgreSQL with agent_trace is running (data in {}).",
                cluster.data_dir().display()
            );
            println!("Connect:  psql \"{}\"", cluster.connection_string());
            println!("Stop:     agent-trace down");
            Ok(())
        }),
        Command::Down(args) => args.cluster().and_then(|cluster| {
            cluster.down()?;
            println!(
                "Stopped the private cluster in {}.",
                cluster.data_dir().display()
            );
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agent-trace: {error}");
            ExitCode::FAILURE
        }
    }
}
