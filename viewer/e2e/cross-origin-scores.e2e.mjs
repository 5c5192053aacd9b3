// A web page of another origin tries to add a score to a run in agent-trace (started without a
// token, so nothing but the origin checks stands in its way), from a real headless Chromium.
// ingest/tests/viewer.rs (a_web_page_of_another_origin_cannot_add_scores) starts agent-trace with one
// run stored and a second loopback server for the page, runs this, then counts the scores stored:
//   TARGET_URL  agent-trace, e.g. http://127.0.0.1:PORT
//   PAGE_URL    the page of another origin, e.g. http://127.0.0.1:OTHER_PORT/
//   TRACE_ID    the stored run
// The page tries what a page can: fetches without a preflight (`mode: 'no-cors'`, whose answers it
// cannot read, so this only checks they went out), a fetch that asks for a preflight
// (application/json, which fails), and a form posted into a frame (a navigation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';

const target = process.env.TARGET_URL;
const pageUrl = process.env.PAGE_URL;
const traceId = process.env.TRACE_ID;
if (!target || !pageUrl || !traceId) throw new Error('set TARGET_URL, PAGE_URL and TRACE_ID');

test('a page of another origin posts scores every way it can', async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(pageUrl);
    assert.notEqual(new URL(page.url()).origin, new URL(target).origin, 'another origin');
    const url = `${target}/api/traces/${traceId}/scores`;
    const score = JSON.stringify({ name: 'thumbs', label: 'thumbs_down', explanation: 'written by a web page' });
    const outcome = await page.evaluate(async ({ url, score }) => {
      const tries = {
        'JSON as a string (sent as text/plain)': { mode: 'no-cors', body: score },
        'JSON in a Blob typed application/json (no-cors drops the type)': { mode: 'no-cors', body: new Blob([score], { type: 'application/json' }) },
        'application/json, which needs a preflight': { headers: { 'content-type': 'application/json' }, body: score },
      };
      const result = {};
      for (const [name, init] of Object.entries(tries)) {
        try {
          const response = await fetch(url, { method: 'POST', ...init });
          result[name] = response.type;
        } catch (error) {
          result[name] = 'failed';
        }
      }
      return result;
    }, { url, score });
    console.log(JSON.stringify(outcome, null, 2));
    assert.equal(outcome['JSON as a string (sent as text/plain)'], 'opaque', 'sent');
    assert.equal(outcome['JSON in a Blob typed application/json (no-cors drops the type)'], 'opaque', 'sent');
    assert.equal(outcome['application/json, which needs a preflight'], 'failed', 'the preflight is refused');

    // A form posted into a frame: a navigation, which carries the page's Origin.
    const answered = page.waitForResponse((response) => response.url() === url);
    await page.evaluate(({ url, score }) => {
      const frame = document.createElement('iframe');
      frame.name = 'sink';
      document.body.appendChild(frame);
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = url;
      form.enctype = 'text/plain';
      form.target = 'sink';
      const field = document.createElement('input');
      field.name = score.slice(0, -2);
      field.value = '"}';
      form.appendChild(field);
      document.body.appendChild(form);
      form.submit();
    }, { url, score });
    assert.equal((await answered).status(), 403, 'the form post is refused');
  } finally {
    await browser.close();
  }
});
