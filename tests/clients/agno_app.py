"""A real Agno AgentOS app against agent_trace, for ingest/tests/agno.rs. Two commands:

  api: an AgentOS app whose db is PostgresDb(db_url, db_schema=SCHEMA) answers the HTTP requests in
       --requests (a JSON list of {"method", "path", "params", "json"}) through FastAPI's test client;
       the report lists {"status", "body"} per request.

  run: an Agno agent with one tool (get_weather) and an OpenAIChat model served by a stub of the
       OpenAI chat completions API on 127.0.0.1 (first answer: call the tool; second: a sentence; 42
       prompt and 17 completion tokens each) runs --runs times under AgentOS(tracing=True), with its
       db = PostgresDb(db_url, db_schema=SCHEMA). With --setup FILE, the Python that
       `agent-trace setup agno` printed is executed after AgentOS is created, as its text tells users
       to. The report lists each run's run_id, session_id, user_id and answer, the model requests the
       stub served, and every warning or error Agno and OpenTelemetry logged. --resend re-inserts, with
       Agno's own PostgresDb.create_spans, every span Agno reads back for the runs (a client retry).

    .venv-test-clients/bin/python tests/clients/agno_app.py run --db-url postgresql+psycopg://... \\
        --schema ai --runs 3 [--setup setup.py] [--resend] --output report.json

Exits 1 when anything was logged at WARNING or above, or a run failed.
"""

import argparse
import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROMPT = "What is the weather in Paris?"
ANSWER = "It is sunny in Paris, 21 C."
TOOL_RESULT = {"temp_c": 21, "sky": "sunny"}


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(f"{record.levelname} {record.name}: {record.getMessage()}")


class StubModel(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: a tool call while the tool has not answered, then the answer."""

    served = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        answered = any(m.get("role") == "tool" for m in body["messages"])
        if body.get("tools") and not answered:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
                    }
                ],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": ANSWER}
            finish = "stop"
        StubModel.served.append({"path": self.path, "model": body["model"], "finish": finish})
        data = json.dumps(
            {
                "id": f"chatcmpl-{len(StubModel.served)}",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 42, "completion_tokens": 17, "total_tokens": 59},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def get_weather(city: str) -> str:
    """Get the current weather of a city."""
    return json.dumps(TOOL_RESULT)


def api(args, db):
    from agno.agent import Agent
    from agno.os import AgentOS
    from fastapi.testclient import TestClient

    agent_os = AgentOS(agents=[Agent(name="viewer", id="viewer", db=db)], db=db)
    client = TestClient(agent_os.get_app())
    answers = []
    with open(args.requests, encoding="utf-8") as f:
        requests = json.load(f)
    for request in requests:
        response = client.request(
            request.get("method", "GET"), request["path"], params=request.get("params"), json=request.get("json")
        )
        answers.append({"status": response.status_code, "body": response.json()})
    return {"answers": answers}


def run(args, db):
    from agno.agent import Agent
    from agno.models.openai import OpenAIChat
    from agno.os import AgentOS
    from opentelemetry import trace

    server = ThreadingHTTPServer(("127.0.0.1", 0), StubModel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        model = OpenAIChat(id="gpt-4o-mini", base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="stub")
        agent = Agent(name="weather_agent", id="weather-agent", model=model, tools=[get_weather], db=db)
        agent_os = AgentOS(agents=[agent], db=db, tracing=True)
        if args.setup:
            with open(args.setup, encoding="utf-8") as f:
                exec(compile(f.read(), args.setup, "exec"), {"agent_os": agent_os})
        runs = []
        for index in range(args.runs):
            session, user = f"agno-session-{index % 2}", "agno-user"
            output = agent.run(PROMPT, session_id=session, user_id=user)
            runs.append({"run_id": output.run_id, "session_id": session, "user_id": user, "content": output.content})
        flushed = trace.get_tracer_provider().force_flush(30000)
        resent = 0
        if args.resend:
            for r in runs:
                trace_row = db.get_trace(run_id=r["run_id"])
                spans = db.get_spans(trace_id=trace_row.trace_id)
                db.create_spans(spans)
                resent += len(spans)
        trace.get_tracer_provider().shutdown()
        return {"runs": runs, "model_requests": StubModel.served, "flushed": flushed, "resent": resent}
    finally:
        server.shutdown()
        server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["api", "run"])
    parser.add_argument("--db-url", required=True, help="SQLAlchemy URL, postgresql+psycopg://...")
    parser.add_argument("--schema", required=True, help="AgentOS's db_schema")
    parser.add_argument("--requests", help="api: JSON list of requests")
    parser.add_argument("--runs", type=int, default=1, help="run: agent runs")
    parser.add_argument("--setup", help="run: Python printed by `agent-trace setup agno`")
    parser.add_argument("--resend", action="store_true", help="run: insert the runs' spans again")
    parser.add_argument("--output", required=True, help="where to write the JSON report")
    args = parser.parse_args()

    collect = Collect()
    for name in ("agno", "opentelemetry", "openinference"):
        logging.getLogger(name).addHandler(collect)

    from agno.db.postgres import PostgresDb

    db = PostgresDb(db_url=args.db_url, db_schema=args.schema)
    report = api(args, db) if args.command == "api" else run(args, db)
    report["log"] = collect.records
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1, default=str)
    return 0 if not collect.records else 1


if __name__ == "__main__":
    sys.exit(main())
