"""AgentOS on agent_trace's compat schema against AgentOS on its own tables (scripts/bench-agno.sh).

  read DB_URL COMPAT_SCHEMA OWN_SCHEMA ROUNDS TRACES: the AgentOS requests below, answered by two AgentOS apps
      (db_schema = each schema, holding the same traces), alternating, ROUNDS times each; prints the
      median milliseconds per request and app.
  write DB_URL COMPAT_SCHEMA OWN_SCHEMA ROUNDS TRACES [OTLP_ENDPOINT]: Agno's own
      DatabaseSpanExporter behind a SimpleSpanProcessor, as AgentOS(tracing=True) sets it up, exports
      TRACES runs of 4 spans (the OpenInference attributes of an agent run with two model calls and a
      tool call) into each schema, alternating, ROUNDS times; with OTLP_ENDPOINT, the same runs also
      go through the OTLP exporter `agent-trace setup agno` adds (a BatchSpanProcessor) to agent-trace,
      timed until force_flush() returns. Prints the median spans per second of each.
  write-databases ROUNDS TRACES LABEL DB_URL SCHEMA [LABEL DB_URL SCHEMA ...]: the same runs through
      Agno's DatabaseSpanExporter into each schema named (scripts/bench-small-writes.sh: two releases
      of the extension, in two databases).
"""

import statistics
import sys
import time

from agno.db.postgres import PostgresDb


def read(url, compat, own, rounds, traces):
    from agno.agent import Agent
    from agno.os import AgentOS
    from fastapi.testclient import TestClient

    clients = {}
    for schema in (compat, own):
        db = PostgresDb(db_url=url, db_schema=schema)
        clients[schema] = TestClient(AgentOS(agents=[Agent(name="bench", id="bench", db=db)], db=db).get_app())
    # A session, a run and an hour in the middle of scripts/bench-agno.sql's runs (one every 10 s).
    session, run = f"session-{traces // 20}", f"run-{traces // 2}"
    hour = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(1767225600 + traces * 5))
    hour_end = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(1767225600 + traces * 5 + 3600))
    some_trace = clients[own].get("/traces", params={"session_id": session}).json()["data"][0]
    span = clients[own].get(f"/traces/{some_trace['trace_id']}").json()["tree"][0]["spans"][0]["id"]
    requests = [
        ("list, first page", "/traces", {}),
        ("list, page 500 of 20", "/traces", {"page": 500}),
        ("list, one session", "/traces", {"session_id": session}),
        ("list, one user", "/traces", {"user_id": "user-7"}),
        ("list, one run", "/traces", {"run_id": run}),
        ("list, status ERROR", "/traces", {"status": "ERROR"}),
        ("list, one hour", "/traces", {"start_time": hour, "end_time": hour_end}),
        ("list, one agent", "/traces", {"agent_id": "agent-3"}),
        ("trace tree", f"/traces/{some_trace['trace_id']}", {}),
        ("one span", f"/traces/{some_trace['trace_id']}", {"span_id": span}),
        ("session stats, first page", "/trace_session_stats", {}),
    ]
    times = {(name, schema): [] for name, _, _ in requests for schema in clients}
    answers = {}
    for _ in range(rounds):
        for name, path, params in requests:
            for schema, client in clients.items():
                started = time.perf_counter()
                response = client.get(path, params=params)
                times[(name, schema)].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (name, schema, response.text)
                body = response.json()
                answers.setdefault(name, {})[schema] = body.get("meta", {}).get("total_count", body.get("total_spans"))
    print(f"| AgentOS request ({rounds} runs each, alternating) | compat schema median ms | Agno's own tables median ms | traces matched |")
    print("|---|---|---|---|")
    for name, _, _ in requests:
        same = answers[name][compat] == answers[name][own]
        print(f"| {name} | {statistics.median(times[(name, compat)]):.1f} | "
              f"{statistics.median(times[(name, own)]):.1f} | {answers[name][compat]}{'' if same else ' (differs: ' + str(answers[name][own]) + ')'} |")


def database_exporter(url, schema):
    """A tracer provider as AgentOS(tracing=True) sets one up: Agno's DatabaseSpanExporter behind a
    SimpleSpanProcessor, into PostgresDb(db_url=url, db_schema=schema)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from agno.tracing.exporter import DatabaseSpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(DatabaseSpanExporter(PostgresDb(db_url=url, db_schema=schema))))
    return provider


def write(url, compat, own, rounds, traces, endpoint=None):
    targets = [("Agno's DatabaseSpanExporter into the compat schema (the view into agent_spans)", database_exporter(url, compat)),
               ("Agno's DatabaseSpanExporter into Agno's own tables", database_exporter(url, own))]
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
        targets.append(("OTLP exporter of `setup agno` (BatchSpanProcessor) to agent-trace", provider))
    export_runs(targets, rounds, traces)


def export_runs(targets, rounds, traces):
    """TRACES Agno-shaped runs into each (label, tracer provider) of targets, alternating, ROUNDS
    times; prints the median spans per second of each."""
    llm = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "OpenAI",
           "llm.token_count.prompt": 42, "llm.token_count.completion": 17,
           "input.value": '{"messages": [{"role": "user", "content": "What is the weather in Paris?"}]}',
           "output.value": '[{"role": "assistant", "content": "It is sunny."}]'}
    tool = {"openinference.span.kind": "TOOL", "tool.name": "get_weather", "input.value": '{"city": "Paris"}',
            "output.value": '{"temp_c": 21}'}

    def run(tracer, n):
        agent = {"openinference.span.kind": "AGENT", "agent.name": "weather_agent", "agno.agent.id": "weather-agent",
                 "session.id": f"bench-session-{n % 100}", "user.id": "bench-user", "agno.run.id": f"bench-run-{n}",
                 "input.value": "What is the weather in Paris?", "output.value": "It is sunny in Paris, 21 C."}
        with tracer.start_as_current_span("weather_agent.run", attributes=agent):
            for name, attributes in (("OpenAIChat.invoke", llm), ("get_weather", tool), ("OpenAIChat.invoke", llm)):
                with tracer.start_as_current_span(name, attributes=attributes):
                    pass

    # One warm-up run each: Agno reflects (or creates) its tables on the first export.
    for _, provider in targets:
        run(provider.get_tracer("bench"), -1)
        provider.force_flush()
    rates = {label: [] for label, _ in targets}
    for r in range(rounds):
        for label, provider in targets:
            tracer = provider.get_tracer("bench")
            started = time.perf_counter()
            for n in range(traces):
                run(tracer, r * traces + n)
            assert provider.force_flush(60000), label
            rates[label].append(4 * traces / (time.perf_counter() - started))
    print(f"| {traces} Agno runs of 4 spans, {rounds} rounds, alternating | spans/s (median) | each round |")
    print("|---|---|---|")
    for label, _ in targets:
        print(f"| {label} | {statistics.median(rates[label]):.0f} | {', '.join(f'{x:.0f}' for x in rates[label])} |")


if __name__ == "__main__":
    if sys.argv[1] == "write-databases":
        # write-databases ROUNDS TRACES LABEL URL SCHEMA [LABEL URL SCHEMA ...]
        rest = sys.argv[4:]
        export_runs([(rest[i], database_exporter(rest[i + 1], rest[i + 2])) for i in range(0, len(rest), 3)],
                    int(sys.argv[2]), int(sys.argv[3]))
        sys.exit()
    command, url, compat, own, rounds = sys.argv[1:6]
    if command == "read":
        read(url, compat, own, int(rounds), int(sys.argv[6]))
    else:
        write(url, compat, own, int(rounds), int(sys.argv[6]), sys.argv[7] if len(sys.argv) > 7 else None)
