"""Sends scores (the GenAI event gen_ai.evaluation.result) with the real opentelemetry-python SDK.

Run by ingest/tests/scores.rs with the venv that scripts/install-test-clients.sh makes:

    .venv-test-clients/bin/python tests/clients/otel_python_scores.py \
        --endpoint http://127.0.0.1:4318 --phase run --twice --token TOKEN --output out.json

Traces and logs go over OTLP/HTTP (protobuf) through the SDK's OTLPSpanExporter and
OTLPLogExporter. With --twice every export request is sent a second time, byte for byte (a client
retrying after a lost answer). What --phase sends:

    run            one agent run: invoke_agent weather_agent > chat gpt-4o-mini (its
                   gen_ai.response.id is --response-id). Inside the chat span's context, an
                   evaluation log record (relevance 0.8, with an explanation) and a malformed one (no
                   gen_ai.evaluation.name); on the chat span, an evaluation span event (tone, label
                   polite).
    score-only     one evaluation log record outside any span, naming only --response-id
                   (faithful 0.9): the span it judges is not sent (yet).
    span-only      one agent run whose chat span answers --response-id, and no score.
    in-context     one evaluation log record in the context of --trace-id / --span-id (a span
                   this client did not make), like an evaluator handed the trace context.

The log records carry their event name in the LogRecord's event_name field, as this SDK sends it.
The output file is JSON:

    {"trace_id": 32 hex or null, "root_span_id": ..., "chat_span_id": ...,
     "exports": [{"signal": "traces" or "logs", "records": n, "result": "SUCCESS" or "FAILURE"}],
     "log": [warnings and errors the SDK and exporters logged], "success": every export succeeded}

Exits 1 unless "success".
"""

import argparse
import json
import logging
import sys
import threading

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

SERVICE = "otel-python-scores-test"
AGENT = "weather_agent"
MODEL = "gpt-4o-mini"
EVALUATION = "gen_ai.evaluation.result"


class Recorded:
    """What every exporter call answered, for all exporters."""

    def __init__(self, twice):
        self.twice = twice
        self.lock = threading.Lock()
        self.exports = []

    def send(self, signal, inner, batch, ok):
        for _ in range(2 if self.twice else 1):
            result = inner.export(batch)
            with self.lock:
                self.exports.append({"signal": signal, "records": len(batch), "result": result.name})
            if result != ok:
                return result
        return result


class SpanSender(SpanExporter):
    def __init__(self, inner, recorded):
        self._inner, self._recorded = inner, recorded

    def export(self, spans):
        return self._recorded.send("traces", self._inner, spans, SpanExportResult.SUCCESS)

    def shutdown(self):
        self._inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


class LogSender(LogRecordExporter):
    def __init__(self, inner, recorded):
        self._inner, self._recorded = inner, recorded

    def export(self, batch):
        return self._recorded.send("logs", self._inner, batch, LogRecordExportResult.SUCCESS)

    def shutdown(self):
        self._inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def hex_ids(span):
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def evaluation(name, **fields):
    attributes = {"gen_ai.evaluation.name": name}
    for key, value in fields.items():
        attributes["gen_ai.evaluation." + key.replace("_", ".")] = value
    return attributes


def agent_run(tracer, response_id, inside_chat=None):
    """invoke_agent > chat; `inside_chat(chat_span)` runs in the chat span's context."""
    with tracer.start_as_current_span(
        f"invoke_agent {AGENT}",
        kind=SpanKind.INTERNAL,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": AGENT},
    ) as root:
        trace_id, root_id = hex_ids(root)
        with tracer.start_as_current_span(
            f"chat {MODEL}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": MODEL,
                "gen_ai.response.id": response_id,
                "gen_ai.usage.input_tokens": 42,
                "gen_ai.usage.output_tokens": 17,
            },
        ) as chat:
            chat_id = hex_ids(chat)[1]
            if inside_chat:
                inside_chat(chat)
    return {"trace_id": trace_id, "root_span_id": root_id, "chat_span_id": chat_id}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="base URL, e.g. http://127.0.0.1:4318")
    parser.add_argument("--phase", choices=["run", "score-only", "span-only", "in-context"], required=True)
    parser.add_argument("--response-id", default="chatcmpl-run")
    parser.add_argument("--trace-id", help="32 hex digits (in-context)")
    parser.add_argument("--span-id", help="16 hex digits (in-context)")
    parser.add_argument("--token", help="sent as Authorization: Bearer TOKEN")
    parser.add_argument("--twice", action="store_true", help="send every export request twice")
    parser.add_argument("--output", required=True, help="where to write the JSON report")
    args = parser.parse_args()

    collect = Collect()
    logging.getLogger("opentelemetry").addHandler(collect)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
    base = args.endpoint.rstrip("/")
    recorded = Recorded(args.twice)
    resource = Resource.create({"service.name": SERVICE})
    # Simple processors: each span and record is exported when it ends or is emitted, so the order
    # of the requests is the order below.
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(SpanSender(OTLPSpanExporter(endpoint=base + "/v1/traces", headers=headers, timeout=10), recorded))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(LogSender(OTLPLogExporter(endpoint=base + "/v1/logs", headers=headers, timeout=10), recorded))
    )
    tracer = tracer_provider.get_tracer("agent_trace.tests.otel_python_scores")
    logger = logger_provider.get_logger("agent_trace.tests.evaluator")

    report = {"trace_id": None, "root_span_id": None, "chat_span_id": None}
    if args.phase == "run":

        def judge(chat):
            relevance = evaluation("relevance", score_value=0.8, explanation="answers the weather question")
            relevance["judge.model"] = "gpt-4o"
            logger.emit(event_name=EVALUATION, attributes=relevance)
            logger.emit(event_name=EVALUATION, attributes={"gen_ai.evaluation.score.value": 1.0})
            chat.add_event(EVALUATION, attributes=evaluation("tone", score_label="polite"))

        report.update(agent_run(tracer, args.response_id, judge))
    elif args.phase == "span-only":
        report.update(agent_run(tracer, args.response_id))
    elif args.phase == "score-only":
        attributes = evaluation("faithful", score_value=0.9, explanation="cites the forecast")
        attributes["gen_ai.response.id"] = args.response_id
        logger.emit(event_name=EVALUATION, attributes=attributes)
    else:
        if not (args.trace_id and args.span_id):
            parser.error("in-context needs --trace-id and --span-id")
        parent = NonRecordingSpan(
            SpanContext(int(args.trace_id, 16), int(args.span_id, 16), is_remote=True, trace_flags=TraceFlags(1))
        )
        logger.emit(
            context=trace.set_span_in_context(parent),
            event_name=EVALUATION,
            attributes=evaluation("relevance", score_value=0.1, explanation="from another project"),
        )

    tracer_provider.shutdown()
    logger_provider.shutdown()
    exports = list(recorded.exports)
    success = bool(exports) and all(e["result"] == "SUCCESS" for e in exports)
    report.update({"exports": exports, "log": collect.records, "success": success})
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1)
    print(f"{args.phase}: {len(exports)} exports, success={success}")
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
