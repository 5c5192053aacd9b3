//! Scaling out (BENCHMARKS.md, docs/scaling-out.md): durable spans per second through agent-trace
//! (OTLP/HTTP protobuf; a 200 means committed) into one PostgreSQL node, and into a Citus
//! coordinator with two workers after `agent_trace.distribute()`, all on this machine: the three
//! nodes share its cores with each other, the server and the load. Default server settings
//! (fsync and synchronous_commit on) on every node.
//!
//! Each round sends the same requests to both, in alternating order, into emptied tables, and
//! checks afterwards that every span was stored once and counted once in agent_traces.
//!
//! Settings (environment): BENCH_SPANS (default 100000) spans per round, BENCH_BATCH (500) spans
//! per request, BENCH_CLIENTS (4) concurrent clients, BENCH_ROUNDS (3), BENCH_SHARDS (32, Citus's
//! default: the shard count distribute() is given), BENCH_TEMPLATE
//! (`py_sdk_agent/010_v1_traces`, the captured request whose spans are copied).
//! Run: `make bench-citus` (builds Citus first if it is missing, from $CITUS_TARBALL).

#[path = "../tests/common/mod.rs"]
mod common;

use common::ServeProcess;
use common::citus::{CITUS, Node, connect, pg_dirs, requests, send};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0)
        .unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    runtime.block_on(run());
}

async fn run() {
    let (spans, batch, clients, rounds) = (
        setting("BENCH_SPANS", 100_000),
        setting("BENCH_BATCH", 500),
        setting("BENCH_CLIENTS", 4),
        setting("BENCH_ROUNDS", 3),
    );
    let shard_count = setting("BENCH_SHARDS", 32);
    let template =
        std::env::var("BENCH_TEMPLATE").unwrap_or_else(|_| "py_sdk_agent/010_v1_traces".into());
    let (bindir, libdir) = pg_dirs();
    if !libdir.join("citus.so").exists() {
        eprintln!(
            "*** SKIPPED: Citus is not installed in {} (scripts/install-citus.sh, CITUS_TARBALL) ***",
            libdir.display()
        );
        return;
    }

    let single = Node::start("bench-single", &bindir, "");
    single
        .execute("CREATE EXTENSION agent_trace; CREATE ROLE bench_ingest LOGIN BYPASSRLS IN ROLE agent_trace_writer;")
        .await;
    let coordinator = Node::start("bench-coordinator", &bindir, CITUS);
    let workers = [
        Node::start("bench-worker1", &bindir, CITUS),
        Node::start("bench-worker2", &bindir, CITUS),
    ];
    for node in std::iter::once(&coordinator).chain(&workers) {
        node.execute("CREATE EXTENSION citus; CREATE EXTENSION agent_trace;")
            .await;
    }
    coordinator
        .execute(&format!(
            "SELECT citus_set_coordinator_host('{}', 5432);
             SELECT citus_add_node('{}', 5432); SELECT citus_add_node('{}', 5432);
             SELECT count(*) FROM agent_trace.distribute(shard_count => {shard_count});
             CREATE ROLE bench_ingest LOGIN BYPASSRLS IN ROLE agent_trace_writer;",
            coordinator.socket(),
            workers[0].socket(),
            workers[1].socket(),
        ))
        .await;
    let shards: i64 = connect(&coordinator.url())
        .await
        .query_one(
            "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'agent_trace.agent_spans'::regclass",
            &[],
        )
        .await
        .expect("shards")
        .get(0);

    let targets = [
        ("one node", &single),
        ("coordinator + 2 workers", &coordinator),
    ];
    let servers: Vec<ServeProcess> = targets
        .iter()
        .map(|(_, node)| {
            let url = node.url().replace("postgres@", "bench_ingest@");
            ServeProcess::spawn(&["serve", "--database-url", &url, "--no-viewer"])
        })
        .collect();
    let bodies = requests(&template, spans, batch);
    println!(
        "agent-trace on Citus: durable spans/s, one node against a coordinator with two workers"
    );
    println!(
        "machine: {} cores shared by every node, both servers and the load; {} spans per round in {} requests of {batch} ({template}), {clients} clients, {rounds} rounds; agent_spans in {shards} shards",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        spans,
        bodies.len()
    );

    // Warm-up: connections open, statements planned, partitions made.
    for (server, (_, node)) in servers.iter().zip(&targets) {
        send(
            &server.url("/v1/traces"),
            &bodies[..clients.min(bodies.len())],
            clients,
        )
        .await;
        empty(node).await;
    }
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..targets.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let seconds = send(&servers[i].url("/v1/traces"), &bodies, clients).await;
            let stored = connect(&targets[i].1.url())
                .await
                .query_one(
                    "SELECT (SELECT count(*) FROM agent_trace.agent_spans),
                            (SELECT coalesce(sum(span_count), 0)::bigint FROM agent_trace.agent_traces)",
                    &[],
                )
                .await
                .expect("counts");
            let (rows, counted): (i64, i64) = (stored.get(0), stored.get(1));
            if rows != counted {
                for node in std::iter::once(&coordinator).chain(&workers) {
                    eprintln!("{}", node.log_around("deadlock", 12));
                }
            }
            assert!(
                rows == spans as i64 && counted == spans as i64,
                "{}: {rows} spans stored, {counted} counted in agent_traces, of {spans}\n{}",
                targets[i].0,
                servers[i]
                    .log()
                    .lines()
                    .filter(|line| !line.contains(" INFO "))
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            rates[i].push(spans as f64 / seconds);
            println!(
                "round {}: {:<24} {:>9.0} spans/s ({seconds:.2} s)",
                round + 1,
                targets[i].0,
                spans as f64 / seconds
            );
            empty(targets[i].1).await;
        }
    }
    println!();
    println!("| target | median spans/s | vs one node |");
    println!("|---|---|---|");
    let base = median(&mut rates[0].clone());
    for (i, (name, _)) in targets.iter().enumerate() {
        let m = median(&mut rates[i]);
        println!("| {name} | {m:.0} | {:.2}x |", m / base);
    }
}

async fn empty(node: &Node) {
    node.execute(
        "TRUNCATE agent_trace.agent_spans, agent_trace.agent_traces, agent_trace.agent_span_costs",
    )
    .await;
}
