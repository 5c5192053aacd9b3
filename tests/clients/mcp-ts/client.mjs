// Calls agent-trace's MCP server with the official MCP TypeScript SDK (@modelcontextprotocol/sdk,
// as package-lock.json pins it; scripts/install-test-clients.sh installs it).
//
// Run by ingest/tests/mcp.rs:  node tests/clients/mcp-ts/client.mjs --plan plan.json --output out.json
//
// It takes the same plan as tests/clients/mcp_python.py and writes the same report (see there):
// one client per session, connected with the session's bearer token, listing the tools and making
// the calls in order, "${ID.path}" arguments taken from earlier answers. The Rust test judges the
// report; this exits 0 once it is written.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const require = createRequire(import.meta.url);
const sdkVersion = require('./node_modules/@modelcontextprotocol/sdk/package.json').version;

function argument(name) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`${name} is required`);
  return process.argv[at + 1];
}

const PLACEHOLDER = /^\$\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+)*)\}$/;

// The plan's argument with each "${ID.path}" replaced from the answers so far.
function resolve(value, answers) {
  if (Array.isArray(value)) return value.map((item) => resolve(item, answers));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, answers)]));
  }
  if (typeof value === 'string') {
    const match = PLACEHOLDER.exec(value);
    if (match) {
      let found = answers[match[1]];
      for (const step of match[2].split('.').filter(Boolean)) found = found[step];
      return found;
    }
  }
  return value;
}

function describe(error) {
  const parts = [`${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`];
  if (error?.code !== undefined) parts.push(`code ${error.code}`);
  if (error?.cause) parts.push(describe(error.cause));
  return parts.join(' | ');
}

async function runSession(url, session) {
  const report = { connected: false, calls: {} };
  const headers = {};
  if (session.token !== null && session.token !== undefined) {
    headers.Authorization = `Bearer ${session.token}`;
  }
  const statuses = (report.http_statuses = []);
  const recording = async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    fetch: recording,
  });
  const client = new Client({ name: 'agent-trace-test', version: '0.1.0' });
  const answers = {};
  try {
    await client.connect(transport);
    report.connected = true;
    report.protocol_version = transport.protocolVersion ?? null;
    if (session.list_tools) {
      const listed = await client.listTools();
      report.tools = listed.tools.map((tool) => ({
        name: tool.name,
        description: tool.description,
        input_schema: tool.inputSchema,
        annotations: tool.annotations ?? null,
      }));
    }
    for (const call of session.calls ?? []) {
      try {
        const result = await client.callTool({
          name: call.name,
          arguments: resolve(call.arguments ?? {}, answers),
        });
        const text = (result.content ?? [])
          .filter((block) => block.type === 'text')
          .map((block) => block.text)
          .join('');
        report.calls[call.id] = { is_error: Boolean(result.isError), text };
        try {
          answers[call.id] = JSON.parse(text);
        } catch {
          answers[call.id] = text;
        }
      } catch (error) {
        report.calls[call.id] = { exception: describe(error) };
      }
    }
  } catch (error) {
    report.error = describe(error);
  } finally {
    await client.close().catch(() => {});
  }
  return report;
}

const plan = JSON.parse(readFileSync(argument('--plan'), 'utf8'));
const report = { client: `typescript @modelcontextprotocol/sdk ${sdkVersion}`, sessions: {} };
for (const session of plan.sessions) {
  report.sessions[session.label] = await runSession(session.url ?? plan.url, session);
}
writeFileSync(argument('--output'), JSON.stringify(report, null, 1));
