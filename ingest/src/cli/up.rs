//! `agent-trace up`: the embedded default. Creates (or reuses) the private cluster, imports the
//! shipped model prices, prints where everything is, and serves OTLP into the cluster until the
//! shutdown signal; then stops the server and the cluster, whichever way serving ended.

use super::cluster::{self, PrivateCluster};
use super::prices;
use crate::server::{self, ServeConfig};
use crate::write::WriterConfig;
use std::future::Future;

/// Runs `up`. `writer.database_url` is ignored: the writer connects to the cluster.
pub async fn up(
    cluster: PrivateCluster,
    serve: ServeConfig,
    writer: WriterConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    // The ports first: a port taken by another process stops `up` before the cluster starts, and
    // the banner names the ports bound (a free one for port 0).
    let mut serve = ServeConfig {
        http_listen: serve.http_listen.bound()?,
        grpc_listen: serve.grpc_listen.bound()?,
        ..serve
    };
    // Starting and stopping the cluster runs pg_ctl and waits for it: blocking, but nothing else is
    // running on this runtime yet (or any more).
    cluster.up().map_err(|e| e.to_string())?;
    // The server writes as the ingest's login (insert only), the viewer reads as its own login
    // (read only, no superuser); prices are imported as the superuser.
    let writer = WriterConfig {
        database_url: cluster.writer_connection_string(),
        password: None,
        ..writer
    };
    if let Some(viewer) = serve.viewer.as_mut() {
        viewer
            .database_url
            .get_or_insert_with(|| cluster.viewer_connection_string());
    }
    // The MCP server reads as the viewer's login too: its query tool then runs as a plain reader.
    if let Some(mcp) = serve.mcp.as_mut() {
        mcp.database_url
            .get_or_insert_with(|| cluster.viewer_connection_string());
    }
    // Today's partitions before anyone is told where to write: a partition attached while rows of
    // its day are on their way into the default one sends those back.
    if serve.maintenance_interval.is_some() {
        server::maintain_now(&writer).await?;
    }
    let scheme = if serve.tls.is_some() { "https" } else { "http" };
    let endpoint = format!("{scheme}://{}", serve.http_listen.address()?);
    println!(
        "PostgreSQL with agent_trace is running (data in {}).",
        cluster.data_dir().display()
    );
    println!();
    println!("  OTLP/HTTP endpoint  {endpoint}   (traces: POST {endpoint}/v1/traces)");
    println!(
        "  OTLP/gRPC endpoint  {scheme}://{}",
        serve.grpc_listen.address()?
    );
    if serve.viewer.is_some() {
        println!("  Viewer              {endpoint}/   (open it in a browser)");
    }
    if serve.mcp.is_some() {
        println!(
            "  MCP server          {endpoint}/mcp   (`agent-trace setup claude` prints how to add it)"
        );
    }
    println!(
        "  Query with          psql \"{}\"",
        cluster.psql_connection_string()
    );
    println!(
        "                      (the superuser; passwords in {}, readable by you alone;",
        cluster.password_file().display()
    );
    println!(
        "                       the server writes as {}, which may only insert)",
        cluster::INGEST_ROLE
    );
    match prices::import_snapshot(&cluster.connection_string()).await {
        Ok(summary) => println!("  Model prices        {summary}"),
        Err(error) => tracing::warn!("model prices not imported: {error}"),
    }
    println!("  Point an OpenTelemetry SDK at it:");
    println!("    export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}");
    println!("    export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
    println!();
    println!("Ctrl-C stops the server and the cluster.");
    let served = server::serve(serve, &writer, shutdown).await;
    let stopped = cluster.down().map_err(|e| e.to_string());
    served.and(stopped)
}
