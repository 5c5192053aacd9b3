#!/usr/bin/env python3
"""Helpers of scripts/bench-scale.sh (the standard library and opentelemetry-proto):

  encode --spans N --batch B --seed S --out FILE
      OTLP/HTTP protobuf ExportTraceServiceRequests of B spans each, N spans in all: runs of ten
      spans shaped as scripts/bench-scale-load.sql's (a root agent span, five LLM calls with a
      model, provider and tokens, four tool calls, about 1 KB of input and output text each, kept
      in the attributes as input.value and output.value), starting now, with ids from the seed.
      Written as 4-byte big-endian lengths and bodies.
  send --url URL --bodies FILE --clients C --server-pid P --postmaster-pid Q
      POSTs every body once, C connections at a time (keep-alive), each body when a client is free;
      every answer must be 200 with no rejected span. Prints one JSON object: spans per second,
      seconds, request latency p50/p99, and CPU seconds per million spans of the server process and
      of the PostgreSQL cluster (postmaster, its children, and the children it reaped).
  plans FILE
      One line summing up the auto_explain plans (JSON, at NOTICE) psql wrote to FILE: each scan
      of a table (index or sequential, partitions of a table counted together) with the rows it
      read, and the statement's shared buffers (hit + read).
  report FILE
      The ingest table of the lines bench-scale.sh wrote (shape, database, round, JSON).
"""

import argparse
import http.client
import json
import os
import random
import re
import statistics
import struct
import sys
import threading
import time
import urllib.parse

# The OTLP messages are opentelemetry-proto's own (the package the OpenTelemetry Python SDK's
# exporter uses): bench-scale.sh runs this with the test clients' venv.
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2


def kv(key, value):
    if isinstance(value, int):
        return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(int_value=value))
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


MODELS = [
    ("gpt-4o", "openai"), ("gpt-4o-mini", "openai"), ("gpt-4.1", "openai"), ("gpt-4.1-mini", "openai"),
    ("o3", "openai"), ("o4-mini", "openai"), ("claude-sonnet-4-5", "anthropic"),
    ("claude-haiku-4-5", "anthropic"), ("claude-opus-4-5", "anthropic"), ("gemini-2.5-flash", "gemini"),
]
TOOLS = ["web_search", "sql_query", "read_file", "send_email", "calculator", "get_weather"]
SPAN_KIND_INTERNAL, SPAN_KIND_CLIENT = 1, 3


def run_spans(rng, run, started_ns):
    """The ten Span messages of one run."""
    trace_id = rng.randbytes(16)
    ids = [rng.randbytes(8) for _ in range(10)]
    agent = "agent-%d" % (run * 7 % 40)
    service_session = "session-bench-%d" % (run // 50)
    user = "user-%d" % (run % 5000)
    tool = TOOLS[run % 6]
    spans = []
    for s in range(10):
        noise = "%032x" % rng.getrandbits(128)
        text_in = (
            '[{"role": "user", "content": "Request %d (%s): what changed in account %d since the last '
            "review, and which of the open tickets are still blocking the release? Please check the "
            'order history, the shipping status and the latest messages from the customer."}]' % (run, noise, run * 31 % 100003)
            + (" " + noise.upper()) * 6
        )[:600]
        text_out = (
            '{"role": "assistant", "content": "Step %d of request %d: ticket %s is still open and blocks '
            'the release. The customer asked twice about the delivery date."}' % (s, run, noise)
            + (" " + noise[::-1]) * 5
        )[:400]
        attrs = [kv("session.id", service_session), kv("user.id", user),
                 kv("gen_ai.agent.name", agent), kv("input.value", text_in),
                 kv("output.value", text_out)]
        start = started_ns + s * 700_000_000
        if s == 0:
            name, kind, end = "invoke_agent " + agent, SPAN_KIND_INTERNAL, started_ns + 7_000_000_000
            attrs.append(kv("gen_ai.operation.name", "invoke_agent"))
        elif s % 2 == 1:
            model, provider = MODELS[(run * 3 + (5 if s == 9 else 0)) % 10]
            name, kind, end = "chat " + model, SPAN_KIND_CLIENT, start + 600_000_000
            attrs += [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", model),
                      kv("gen_ai.provider.name", provider),
                      kv("gen_ai.usage.input_tokens", 300 + (run * 17 + s * 131) % 4000),
                      kv("gen_ai.usage.output_tokens", 20 + (run * 7 + s * 37) % 600)]
        else:
            name, kind, end = "execute_tool " + tool, SPAN_KIND_INTERNAL, start + 600_000_000
            attrs += [kv("gen_ai.operation.name", "execute_tool"), kv("gen_ai.tool.name", tool)]
        span = trace_pb2.Span(trace_id=trace_id, span_id=ids[s], name=name, kind=kind,
                              start_time_unix_nano=start, end_time_unix_nano=end, attributes=attrs)
        if s > 0:
            span.parent_span_id = ids[0]
        if s == 8 and run % 50 == 7:
            span.status.code = trace_pb2.Status.STATUS_CODE_ERROR
            span.status.message = "tool timed out after 30 s"
        spans.append(span)
    return spans


def encode(args):
    rng = random.Random(args.seed)
    resource = resource_pb2.Resource(attributes=[kv(k, v) for k, v in [
        ("service.name", "service-bench"), ("telemetry.sdk.name", "opentelemetry"),
        ("telemetry.sdk.language", "python"), ("telemetry.sdk.version", "1.45.2")]])
    scope = common_pb2.InstrumentationScope(name="bench.scale")
    now = time.time_ns()
    # Runs ten milliseconds apart, starting now: today's partition, as live traffic.
    spans = []
    for run in range(-(-args.spans // 10)):
        spans += run_spans(rng, args.seed * 1_000_000 + run, now + run * 10_000_000)
    spans = spans[: args.spans]
    with open(args.out, "wb") as out:
        for i in range(0, len(spans), args.batch):
            request = trace_service_pb2.ExportTraceServiceRequest(resource_spans=[trace_pb2.ResourceSpans(
                resource=resource, scope_spans=[trace_pb2.ScopeSpans(scope=scope, spans=spans[i : i + args.batch])])])
            body = request.SerializeToString()
            out.write(struct.pack(">I", len(body)) + body)


def read_bodies(path):
    bodies = []
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i : i + 4])
        bodies.append(data[i + 4 : i + 4 + n])
        i += 4 + n
    return bodies


# --- /proc accounting ---


def stat_fields(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    return [int(x) if x.lstrip("-").isdigit() else 0 for x in text[text.rfind(")") + 1 :].split()]


def process_ticks(pid):
    f = stat_fields(pid)
    return f[11] + f[12] if f else 0


def cluster_ticks(postmaster):
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        f = stat_fields(pid)
        if not f:
            continue
        if pid == str(postmaster):
            total += f[11] + f[12] + f[13] + f[14]
        elif f[1] == postmaster:
            total += f[11] + f[12]
    return total


def send(args):
    bodies = read_bodies(args.bodies)
    url = urllib.parse.urlsplit(args.url)
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    latencies, errors = [], []

    def client():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None or errors:
                break
            started = time.perf_counter()
            conn.request("POST", url.path, body=bodies[index], headers={"Content-Type": "application/x-protobuf"})
            response = conn.getresponse()
            answer = response.read()
            took = (time.perf_counter() - started) * 1000
            # A 200 with an ExportTraceServiceResponse without partial_success (or an empty one):
            # nothing rejected.
            if response.status != 200 or answer not in (b"", b"\x0a\x00"):
                errors.append("answer %d: %r" % (response.status, answer[:200]))
                break
            with lock:
                latencies.append(took)
        conn.close()

    ticks = os.sysconf("SC_CLK_TCK")
    server_before = process_ticks(args.server_pid)
    pg_before = cluster_ticks(args.postmaster_pid)
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        sys.exit("bench-scale: " + errors[0])
    server = (process_ticks(args.server_pid) - server_before) / ticks
    pg = (cluster_ticks(args.postmaster_pid) - pg_before) / ticks
    total = args.spans
    latencies.sort()
    print(json.dumps({
        "spans_per_s": round(total / seconds),
        "seconds": round(seconds, 2),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "server_cpu_s_per_M": round(server / total * 1e6, 1),
        "pg_cpu_s_per_M": round(pg / total * 1e6, 1),
    }))


# --- plans ---

PARTITION = re.compile(r"_p\d{8}|_default")


def plans(args):
    with open(args.file) as f:
        text = f.read()
    decoder = json.JSONDecoder()
    found = []
    for m in re.finditer(r"plan:\s*\n", text):
        brace = text.find("{", m.end())
        if brace < 0:
            continue
        try:
            doc, _ = decoder.raw_decode(text[brace:])
        except ValueError:
            continue
        found.append(doc)
    if not found:
        errors = [line for line in text.splitlines() if "ERROR" in line]
        print("no plan" + (": " + errors[0] if errors else ""))
        return
    scans = {}
    order = []

    def walk(node):
        relation = node.get("Relation Name")
        # Partitions pruned when the statement ran show as never executed (no loops).
        if relation and "Scan" in node["Node Type"] and node.get("Actual Loops", 1) > 0:
            kind = node["Node Type"]
            what = PARTITION.sub("", node.get("Index Name") or relation)
            if kind in ("Seq Scan", "Bitmap Heap Scan"):
                what = PARTITION.sub("", relation)
            key = (kind, what)
            loops = node.get("Actual Loops", 1)
            rows = node.get("Actual Rows", 0) * loops + node.get("Rows Removed by Filter", 0) * loops
            if key not in scans:
                scans[key] = [0, set(), 0]
                order.append(key)
            scans[key][0] += rows
            scans[key][1].add(relation)
            scans[key][2] += loops
        for child in node.get("Plans", []):
            walk(child)

    for doc in found:
        walk(doc["Plan"])
    # The statement's own plan is the last one logged (its functions' statements end first).
    top = found[-1]["Plan"]
    buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    parts = []
    for kind, what in order:
        rows, relations, loops = scans[(kind, what)]
        label = {"Seq Scan": "**Seq Scan**", "Index Scan": "Index Scan", "Index Only Scan": "Index Only Scan",
                 "Bitmap Heap Scan": "Bitmap Heap Scan", "Bitmap Index Scan": "Bitmap Index Scan"}.get(kind, kind)
        where = " (%d partitions)" % len(relations) if len(relations) > 1 else ""
        loop_text = ", %s loops" % f"{loops:,}" if loops > len(relations) else ""
        parts.append("%s %s%s: %s rows%s" % (label, what, where, f"{rows:,}", loop_text))
    print("; ".join(parts) + "; %s buffers" % f"{buffers:,}")


def report(args):
    results = {}
    order = []
    with open(args.file) as f:
        for line in f:
            shape, db, _round, data = line.rstrip("\n").split("\t", 3)
            if shape not in results:
                results[shape] = {}
                order.append(shape)
            results[shape].setdefault(db, []).append(json.loads(data))
    print("| requests (spans:per request:clients) | database | median spans/s (rounds) | p50 / p99 ms | server CPU s per 1M spans | PostgreSQL CPU s per 1M spans | vs empty |")
    print("|---|---|---|---|---|---|---|")
    for shape in order:
        empty = statistics.median(r["spans_per_s"] for r in results[shape].get("empty", [{"spans_per_s": 0}]))
        for db in ("scale", "empty"):
            runs = results[shape].get(db, [])
            if not runs:
                continue
            rate = statistics.median(r["spans_per_s"] for r in runs)
            med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
            print("| %s | %s | %s (%s) | %.1f / %.1f | %.1f | %.1f | %s |" % (
                shape, "loaded" if db == "scale" else "empty", f"{round(rate):,}",
                ", ".join(f"{r['spans_per_s']:,}" for r in runs), med("p50_ms"), med("p99_ms"),
                med("server_cpu_s_per_M"), med("pg_cpu_s_per_M"),
                "%.2fx" % (rate / empty) if empty else "-"))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("encode")
    p.add_argument("--spans", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("send")
    p.add_argument("--url", required=True)
    p.add_argument("--bodies", required=True)
    p.add_argument("--spans", type=int, required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--server-pid", type=int, required=True)
    p.add_argument("--postmaster-pid", type=int, required=True)
    p = sub.add_parser("plans")
    p.add_argument("file")
    p = sub.add_parser("report")
    p.add_argument("file")
    args = parser.parse_args()
    {"encode": encode, "send": send, "plans": plans, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
