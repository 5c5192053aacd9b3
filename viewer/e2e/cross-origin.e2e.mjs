// A web page of another origin attacks agent-trace (started without a token) from a real headless
// Chromium. ingest/tests/viewer.rs (a_web_page_of_another_origin_cannot_write_spans) starts
// agent-trace and a second loopback server for the page, runs this, then counts what was stored:
//   TARGET_URL        agent-trace, e.g. http://127.0.0.1:PORT
//   PAGE_URL          the page of another origin, e.g. http://127.0.0.1:OTHER_PORT/
//   OTLP_JSON         an OTLP/JSON traces request
//   OTLP_PROTOBUF_HEX the same request as protobuf, in hex
// The page sends each body the way a page can without a CORS preflight (`mode: 'no-cors'`): the
// answers are opaque to it, so this only checks that every request went out; whether anything was
// stored is the Rust side's to count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';

const target = process.env.TARGET_URL;
const pageUrl = process.env.PAGE_URL;
const json = process.env.OTLP_JSON;
const hex = process.env.OTLP_PROTOBUF_HEX;
if (!target || !pageUrl || !json || !hex) throw new Error('set TARGET_URL, PAGE_URL, OTLP_JSON and OTLP_PROTOBUF_HEX');

test('a page of another origin sends OTLP with no-cors fetches', async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(pageUrl);
    assert.notEqual(new URL(page.url()).origin, new URL(target).origin, 'another origin');
    const sent = await page.evaluate(async ({ target, json, hex }) => {
      const bytes = new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
      const attempts = {
        'JSON as a string (sent as text/plain)': { body: json },
        "JSON with headers: {'Content-Type': 'text/plain'}": { body: json, headers: { 'Content-Type': 'text/plain' } },
        'protobuf bytes (sent without a Content-Type)': { body: bytes },
        'JSON in a Blob typed application/json (no-cors drops the type)': { body: new Blob([json], { type: 'application/json' }) },
      };
      const outcome = {};
      for (const [name, init] of Object.entries(attempts)) {
        try {
          const response = await fetch(`${target}/v1/traces`, { method: 'POST', mode: 'no-cors', ...init });
          outcome[name] = response.type;
        } catch (error) {
          outcome[name] = `failed: ${error.message}`;
        }
      }
      return outcome;
    }, { target, json, hex });
    console.log(JSON.stringify(sent, null, 2));
    for (const [name, type] of Object.entries(sent)) assert.equal(type, 'opaque', `${name} was sent`);
  } finally {
    await browser.close();
  }
});
