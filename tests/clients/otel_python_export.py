"""Sends agent traces to agent-trace with the real opentelemetry-python SDK and OTLP exporter.

Run by ingest/tests/python_sdk.rs with the venv that scripts/install-test-clients.sh makes:

    .venv-test-clients/bin/python tests/clients/otel_python_export.py \
        --endpoint http://127.0.0.1:4318 --protocol http --traces 50 --chats 3 --gzip --output out.json

Each trace is one agent run as the GenAI semantic conventions describe it:

    invoke_agent weather_agent          gen_ai.operation.name=invoke_agent, the run's total usage
    ├── chat gpt-4o-mini  (x --chats)   gen_ai.operation.name=chat, 42 input / 17 output tokens
    └── execute_tool get_weather        gen_ai.operation.name=execute_tool

Spans go through a BatchSpanProcessor (small batches, so traces are split across requests) to the
OTLPSpanExporter of --protocol. The output file is JSON:

    {"traces": [{"trace_id": 32 hex, "conversation_id": ..., "spans": [
        {"span_id": 16 hex, "parent_span_id": 16 hex or null, "name": ..., "operation": ...}]}],
     "flushed": force_flush()'s return value,
     "exports": [{"spans": n, "result": "SUCCESS" or "FAILURE"}],   one per exporter call
     "log": [warnings and errors the SDK and exporter logged],
     "success": flushed and every export succeeded}

force_flush() only says whether the queue was drained in time, not whether the server took the
spans, so every export's own result is recorded too. Exits 1 unless "success".
"""

import argparse
import json
import logging
import sys
import threading

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import SpanKind

MODEL = "gpt-4o-mini"
PROVIDER = "openai"
AGENT = "weather_agent"
TOOL = "get_weather"
INPUT_TOKENS = 42
OUTPUT_TOKENS = 17
SERVICE = "otel-python-export-test"


class RecordingExporter(SpanExporter):
    """Passes every batch to the real exporter and records what it answered."""

    def __init__(self, inner):
        self._inner = inner
        self._lock = threading.Lock()
        self.exports = []

    def export(self, spans):
        result = self._inner.export(spans)
        with self._lock:
            self.exports.append({"spans": len(spans), "result": result.name})
        return result

    def shutdown(self):
        self._inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return self._inner.force_flush(timeout_millis)


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def make_exporter(protocol, endpoint, gzip):
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(
            endpoint=endpoint.rstrip("/") + "/v1/traces",
            compression=Compression.Gzip if gzip else Compression.NoCompression,
            timeout=10,
        )
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=endpoint,
        insecure=True,
        compression=Compression.Gzip if gzip else Compression.NoCompression,
        timeout=10,
    )


def hex_ids(span):
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def emit_trace(tracer, index, chats):
    conversation = f"conv-{index:04d}"
    spans = []
    with tracer.start_as_current_span(
        f"invoke_agent {AGENT}",
        kind=SpanKind.INTERNAL,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": AGENT,
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.conversation.id": conversation,
            # Like real agent SDKs, the agent span repeats its LLM calls' usage; the trace's
            # totals must not count it twice.
            "gen_ai.usage.input_tokens": INPUT_TOKENS * chats,
            "gen_ai.usage.output_tokens": OUTPUT_TOKENS * chats,
        },
    ) as root:
        trace_id, root_id = hex_ids(root)
        spans.append(
            {"span_id": root_id, "parent_span_id": None, "name": root.name, "operation": "invoke_agent"}
        )
        for turn in range(chats):
            with tracer.start_as_current_span(
                f"chat {MODEL}",
                kind=SpanKind.CLIENT,
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": PROVIDER,
                    "gen_ai.request.model": MODEL,
                    "gen_ai.response.model": MODEL + "-2024-07-18",
                    "gen_ai.usage.input_tokens": INPUT_TOKENS,
                    "gen_ai.usage.output_tokens": OUTPUT_TOKENS,
                    "gen_ai.conversation.id": conversation,
                    "gen_ai.response.finish_reasons": ["tool_calls" if turn == 0 else "stop"],
                },
            ) as chat:
                spans.append(
                    {"span_id": hex_ids(chat)[1], "parent_span_id": root_id, "name": chat.name, "operation": "chat"}
                )
            if turn == 0:
                with tracer.start_as_current_span(
                    f"execute_tool {TOOL}",
                    kind=SpanKind.INTERNAL,
                    attributes={
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": TOOL,
                        "gen_ai.tool.call.id": f"call-{index}",
                        "gen_ai.conversation.id": conversation,
                    },
                ) as tool:
                    spans.append(
                        {"span_id": hex_ids(tool)[1], "parent_span_id": root_id, "name": tool.name, "operation": "execute_tool"}
                    )
    return {"trace_id": trace_id, "conversation_id": conversation, "spans": spans}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="base URL, e.g. http://127.0.0.1:4318")
    parser.add_argument("--protocol", choices=["http", "grpc"], required=True)
    parser.add_argument("--traces", type=int, required=True, help="number of agent runs")
    parser.add_argument("--chats", type=int, required=True, help="chat spans per trace (plus the root and one tool span)")
    parser.add_argument("--gzip", action="store_true", help="compress requests with gzip")
    parser.add_argument("--batch-size", type=int, default=64, help="spans per export request")
    parser.add_argument("--output", required=True, help="where to write the JSON report")
    args = parser.parse_args()
    if args.traces < 1 or args.chats < 1 or args.batch_size < 1:
        parser.error("--traces, --chats and --batch-size must be at least 1")

    collect = Collect()
    logging.getLogger("opentelemetry").addHandler(collect)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    exporter = RecordingExporter(make_exporter(args.protocol, args.endpoint, args.gzip))
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_export_batch_size=args.batch_size, schedule_delay_millis=200)
    )
    tracer = provider.get_tracer("agent_trace.tests.otel_python_export")

    traces = [emit_trace(tracer, index, args.chats) for index in range(args.traces)]
    flushed = provider.force_flush(timeout_millis=60000)
    provider.shutdown()

    exports = list(exporter.exports)
    success = bool(flushed) and bool(exports) and all(e["result"] == SpanExportResult.SUCCESS.name for e in exports)
    report = {
        "protocol": args.protocol,
        "gzip": args.gzip,
        "traces": traces,
        "flushed": flushed,
        "exports": exports,
        "log": collect.records,
        "success": success,
    }
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1)
    spans = sum(len(t["spans"]) for t in traces)
    print(
        f"{args.protocol}{' gzip' if args.gzip else ''}: {len(traces)} traces, {spans} spans, "
        f"{len(exports)} exports, flushed={flushed}, success={success}"
    )
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
