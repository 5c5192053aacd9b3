"""Calls agent-trace's MCP server with the official MCP Python SDK (`mcp` on PyPI).

Run by ingest/tests/mcp.rs with the venv that scripts/install-test-clients.sh makes:

    .venv-test-clients/bin/python tests/clients/mcp_python.py --plan plan.json --output out.json

It does what the plan says and reports what the server answered; the Rust test judges it (the
TypeScript client, tests/clients/mcp-ts/client.mjs, takes the same plan and writes the same
report). The plan is JSON:

    {"url": "http://127.0.0.1:PORT/mcp",
     "sessions": [{"label": "server", "token": "..." or null, "list_tools": true,
                   "calls": [{"id": "list", "name": "find_traces", "arguments": {...}}]}]}

One session is one client connected with that bearer token (none: no Authorization header), to the
session's own "url" if it has one. An
argument that is a string "${ID.path.to.value}" is replaced, before its call, by that value of the
JSON answer of the earlier call ID of the session (e.g. "${list.traces.0.trace_id}"). The report:

    {"client": "python mcp X.Y.Z",
     "sessions": {LABEL: {"connected": bool, "error": why not (the exception's text),
                          "http_statuses": [the status of every HTTP answer, in order],
                          "protocol_version": ..., "tools": [{"name", "description",
                          "input_schema", "annotations"}],
                          "calls": {ID: {"is_error": bool, "text": the answer's text}}}}}

A call whose request fails (not a tool error: the transport or the protocol) is reported with
"exception". Exits 0 once the report is written, whatever the server answered.
"""

import argparse
import asyncio
import importlib.metadata
import json
import re
import sys
import traceback

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

PLACEHOLDER = re.compile(r"^\$\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+)*)\}$")


def resolve(value, answers):
    """The plan's argument with each "${ID.path}" replaced from the answers so far."""
    if isinstance(value, dict):
        return {key: resolve(item, answers) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, answers) for item in value]
    if isinstance(value, str):
        match = PLACEHOLDER.match(value)
        if match:
            found = answers[match.group(1)]
            for step in filter(None, match.group(2).split(".")):
                found = found[int(step)] if isinstance(found, list) else found[step]
            return found
    return value


def text_of(result):
    return "".join(block.text for block in result.content if getattr(block, "type", None) == "text")


async def run_session(url, session):
    report = {"connected": False, "calls": {}}
    headers = {}
    if session.get("token") is not None:
        headers["Authorization"] = f"Bearer {session['token']}"
    answers = {}
    statuses = report["http_statuses"] = []

    async def record(response):
        statuses.append(response.status_code)

    try:
        async with httpx2.AsyncClient(headers=headers, timeout=60, event_hooks={"response": [record]}) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                report["connected"] = True
                report["protocol_version"] = getattr(client.session, "protocol_version", None)
                if session.get("list_tools"):
                    listed = await client.list_tools()
                    report["tools"] = [
                        {
                            "name": tool.name,
                            "description": tool.description,
                            "input_schema": tool.input_schema,
                            "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True)
                            if tool.annotations
                            else None,
                        }
                        for tool in listed.tools
                    ]
                for call in session.get("calls", []):
                    try:
                        arguments = resolve(call.get("arguments", {}), answers)
                        result = await client.call_tool(call["name"], arguments)
                        text = text_of(result)
                        report["calls"][call["id"]] = {"is_error": bool(result.is_error), "text": text}
                        try:
                            answers[call["id"]] = json.loads(text)
                        except ValueError:
                            answers[call["id"]] = text
                    except Exception as error:  # noqa: BLE001 - reported, judged by the test
                        report["calls"][call["id"]] = {"exception": describe(error)}
    except BaseException as error:  # noqa: BLE001 - a refused connection is an answer too
        report["error"] = describe(error)
    return report


def describe(error):
    """The exception's text, with those it groups (anyio's task groups wrap them)."""
    parts = [f"{type(error).__name__}: {error}"]
    for inner in getattr(error, "exceptions", []) or []:
        parts.append(describe(inner))
    if error.__cause__ is not None:
        parts.append(describe(error.__cause__))
    return " | ".join(parts)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with open(args.plan, encoding="utf-8") as file:
        plan = json.load(file)
    report = {"client": f"python mcp {importlib.metadata.version('mcp')}", "sessions": {}}
    for session in plan["sessions"]:
        try:
            report["sessions"][session["label"]] = await run_session(session.get("url") or plan["url"], session)
        except BaseException:  # noqa: BLE001
            report["sessions"][session["label"]] = {"connected": False, "error": traceback.format_exc()}
    with open(args.output, "w", encoding="utf-8") as file:
        json.dump(report, file, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
