// The viewer end to end in a real browser, as a person uses it. ingest/tests/viewer.rs starts
// PostgreSQL and agent-trace (with a token), posts every captured request, then runs this with
//   VIEWER_URL   the server, e.g. http://127.0.0.1:PORT
//   VIEWER_TOKEN the token it was started with
//   ARTIFACTS    where screenshots go
// One browser session walks through every view: login, the trace list (and a trace arriving live),
// a trace's waterfall and span panel, a diff of two runs, a replay and its download, sessions and
// cost, the SQL panel and the dark theme. Each step asserts on what is on screen. Exit code 0 means
// every check passed; node's test runner prints the summary.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './browser.mjs';

const base = process.env.VIEWER_URL;
const token = process.env.VIEWER_TOKEN;
const artifacts = process.env.ARTIFACTS ?? 'e2e-artifacts';
if (!base || !token) throw new Error('set VIEWER_URL and VIEWER_TOKEN (ingest/tests/viewer.rs does)');
mkdirSync(artifacts, { recursive: true });

// The captured runs (tests/fixtures/otlp/, tests/fixture_sql/trace_api.out).
const PY_RUN = '8bef85e718690b4f738c3d7e267a185e';
const OPENINFERENCE = '70bd3471974e8d134eebca919adaa71f';
const CODEX_TURN = '753bd5bf6b1a2d630970c6de86d46ad2';

let browser;
let page;
const outside = [];
const pageErrors = [];

before(async () => {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, colorScheme: 'light' });
  page = await context.newPage();
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('data:')) outside.push(request.url());
  });
  page.on('pageerror', (error) => pageErrors.push(`${error.message}\n${error.stack ?? ''}`));
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
});

const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`) });
const row = (traceId) => page.locator(`.trace-table [data-trace-id="${traceId}"]`);

test('the viewer asks for the token, and lets in whoever has it', async () => {
  await page.goto(`${base}/?range=all`);
  assert.match(page.url(), /\/login\?next=/);
  await page.fill('input[name=token]', 'not-the-token');
  await page.click('button[type=submit]');
  await page.getByRole('alert').filter({ hasText: 'not the token' }).waitFor();
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/?range=all`);
  await page.locator('.trace-table .tr').first().waitFor();
});

test('the trace list shows the runs with their tokens and both costs, sorted and filtered', async () => {
  const claude = page.locator('.trace-table .tr', { hasText: 'claude_code.interaction' }).first();
  assert.match(await claude.innerText(), /\$0\.000762/, 'the Claude Code trace computes to $0.000762');
  await shot('01-trace-list');
  // The Python agent ran first: scroll to the end of the list (rows are drawn as they scroll in).
  await page.locator('.trace-table .tbody').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  const py = row(PY_RUN);
  await py.waitFor();
  assert.match(await py.innerText(), /invoke_agent weather_agent/);
  assert.match(await py.innerText(), /\b280\b/, 'the Python agent trace has 280 input tokens');

  await page.getByRole('columnheader', { name: 'Spans' }).click();
  await page.waitForURL(/sort=spans/);
  await page.waitForFunction(() => document.querySelector('.trace-table .tr .trace-name')?.textContent === 'turn/start');
  assert.match(await page.locator('.trace-table .tr').first().innerText(), /\b220\b/, 'the Codex turn has the most spans');

  await page.getByLabel('Search name, input and output').fill('weather');
  await page.waitForURL(/q=weather/);
  await page.getByLabel('Status').selectOption('ERROR');
  await page.waitForURL(/status=ERROR/);
  await page.waitForFunction(() => [...document.querySelectorAll('.trace-table .tr')].every((r) => r.textContent.includes('weather')));
  const names = await page.locator('.trace-table .tr .trace-name').allInnerTexts();
  assert.ok(names.length > 0 && names.every((name) => /weather/.test(name)), names.join(', '));
});

test('a new trace appears in the list without a reload', async () => {
  await page.goto(`${base}/?range=all`);
  await page.locator('[data-testid=live].on').waitFor();
  // The first page is in (a trace stored before it loads is in it, and new to nobody).
  await page.locator('.trace-table .tr').first().waitFor();
  const traceId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'e2e-live' } }] },
      scopeSpans: [{ spans: [{ traceId, spanId: '00000000000000a1', name: 'live arrival', kind: 1, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 5_000_000n) }] }],
    }],
  };
  const response = await fetch(`${base}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  await row(traceId).waitFor({ timeout: 10_000 });
  assert.match(await row(traceId).innerText(), /live arrival/);
  assert.match(await row(traceId).getAttribute('class'), /fresh/);
});

test('a trace: waterfall by real start times, errors, critical path, and the span panel', async () => {
  await page.goto(`${base}/traces/${PY_RUN}`);
  const stats = page.getByTestId('trace-stats');
  await stats.waitFor();
  assert.match(await stats.innerText(), /IN TOKENS\s+280/i);
  const rows = page.locator('.wf-row');
  assert.equal(await rows.count(), 5);
  assert.equal(await page.locator('.wf-row[data-critical=true]').count(), 5, 'critical_path lists all five spans of this run');
  const failing = page.locator('.wf-row', { hasText: 'http GET weather-backend' });
  assert.match(await failing.getAttribute('class'), /has-error/);
  // Bars are placed by start offset: the tool call starts about half-way through the 28.4 ms run.
  const bar = await page.locator('.wf-row', { hasText: 'execute_tool get_weather' }).locator('.bar').evaluate((el) => parseFloat(el.style.left));
  assert.ok(bar > 45 && bar < 50, `execute_tool bar at ${bar}%`);

  await page.locator('.wf-row', { hasText: 'execute_tool get_weather' }).click();
  await page.waitForURL(/span=b44a6bb020e2d6c6/);
  const panel = page.getByTestId('span-panel');
  await panel.getByText('get_weather', { exact: true }).first().waitFor();
  assert.match(await panel.innerText(), /"city": "Paris"/);
  assert.match(await panel.innerText(), /"temp_c": 21/);
  assert.match(await panel.innerText(), /SELF TIME\s+3\.58 ms/i);
  await shot('02-trace-waterfall');

  // Collapse the tool call: its child disappears from the waterfall.
  await page.locator('.wf-row', { hasText: 'execute_tool get_weather' }).getByRole('button', { name: 'Collapse' }).click();
  assert.equal(await rows.count(), 4);

  // An LLM call's messages, by role, with the tool call and its result.
  await page.goto(`${base}/traces/${OPENINFERENCE}?span=41ca73ef322aa9ce`);
  await panel.locator('.message').first().waitFor();
  const roles = await panel.locator('.message .role').allInnerTexts();
  assert.deepEqual(roles.slice(0, 4).map((r) => r.toLowerCase()), ['system', 'user', 'assistant', 'tool']);
  assert.match(await panel.locator('.message').nth(0).innerText(), /You are a weather bot\./);
  assert.match(await panel.locator('.message').nth(2).innerText(), /get_weather/);
  await panel.getByLabel('Search attributes').fill('llm.model_name');
  assert.match(await panel.locator('.kv').first().innerText(), /gpt-4o-mini/);
  await shot('03-span-messages');

  // A Codex session's turns: pick the turn with the model call; the waterfall shows that turn alone.
  await page.goto(`${base}/traces/${CODEX_TURN}`);
  const turns = page.getByRole('combobox', { name: 'Turn' });
  await turns.waitFor();
  const turn = await turns.locator('option', { hasText: 'op.dispatch.turn_input' }).getAttribute('value');
  await turns.selectOption(turn);
  await page.waitForURL(/turn=/);
  await page.waitForFunction(() => document.querySelector('.legend')?.textContent.includes('212 spans'));
  // 212 spans, but only the visible rows are in the page.
  const drawn = await page.locator('.wf-row').count();
  assert.ok(drawn < 80, `${drawn} rows drawn for 212 spans`);

  // The trace's logs.
  await page.goto(`${base}/traces/${CODEX_TURN}`);
  await page.getByRole('tab', { name: /Logs/ }).click();
  assert.ok((await page.locator('.log-table tbody tr').count()) >= 1);
});

test('a diff of two runs shows the deltas and scrolls to the first divergence', async () => {
  await page.goto(`${base}/diff?a=${PY_RUN}&b=${OPENINFERENCE}`);
  const banner = page.getByTestId('first-divergence');
  await banner.waitFor();
  assert.match(await banner.innerText(), /First divergence at step 2: removed invoke_agent weather_agent > chat gpt-4o-mini/);
  const first = page.locator('.diff-table .tr.first-divergence');
  assert.equal(await first.getAttribute('data-step'), '2');
  assert.ok(await first.isVisible());
  assert.match(await page.getByTestId('delta-In tokens').innerText(), /280[\s\S]*126[\s\S]*-154/);
  assert.equal(await page.locator('.diff-table .tr[data-change=added]').count(), 3);
  await shot('04-diff');
});

test('a replay steps through the run in time order and downloads replay_json', async () => {
  await page.goto(`${base}/replay/${PY_RUN}`);
  await page.getByTestId('step-detail').waitFor();
  assert.equal(await page.locator('.step-row').count(), 5);
  await page.getByRole('button', { name: 'Next step' }).click();
  await page.getByRole('button', { name: 'Next step' }).click();
  await page.waitForURL(/step=3/);
  const detail = page.getByTestId('step-detail');
  await detail.getByText('3. execute_tool get_weather').waitFor();
  assert.match(await detail.innerText(), /"city": "Paris"/);
  await page.keyboard.press('ArrowLeft');
  await page.waitForURL(/step=2/);
  // The LLM call kept its messages as span events: they are shown too.
  await detail.getByText("What's the weather in Paris?").waitFor();
  await shot('05-replay');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-replay').click()]);
  const document = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(document.trace_id, PY_RUN);
  assert.deepEqual(document.steps.map((s) => s.step), ['llm_request', 'tool_result', 'llm_request']);
});

test('sessions and cost: every tool, tokens and both costs, charts, and a click through to the traces', async () => {
  await page.goto(`${base}/sessions`);
  const table = page.getByTestId('sessions');
  await table.waitFor();
  const claude = table.locator('tr', { hasText: 'Claude Code' }).first();
  assert.match(await claude.innerText(), /\$0\.000762/, "the Claude Code session's reported cost");
  assert.match(await table.locator('tr', { hasText: 'Gemini CLI' }).innerText(), /\$0\.0002225/);
  assert.match(await table.locator('tr', { hasText: 'Codex' }).innerText(), /\$0\.0002225/);
  await page.getByTestId('chart-tokens').locator('canvas').waitFor();
  await page.getByTestId('chart-cost').locator('canvas').waitFor();
  assert.match(await page.getByTestId('chart-tokens').innerText(), /claude-sonnet-4-5/);
  assert.match(await page.getByTestId('chart-cost').innerText(), /gpt-5-codex \$0\.0002225/);
  await shot('06-sessions');
  await page.getByRole('group', { name: 'Charts by' }).getByRole('button', { name: 'by tool' }).click();
  await page.waitForURL(/by=tool/);
  // The charts redraw once the tool series arrive: wait for them, then read the total.
  const byTool = page.getByTestId('chart-cost').filter({ hasText: 'Claude Code' });
  await byTool.waitFor();
  assert.match(await byTool.innerText(), /Claude Code \$0\.002286/, 'six api_request events of $0.000381');
  await table.locator('tr', { hasText: 'conv-42' }).getByRole('link').click();
  await page.waitForURL(/\/\?session=conv-42/);
  await page.locator('.trace-table .tr').first().waitFor();
  const sessions = await page.locator('.trace-table .tr .trace-name').allInnerTexts();
  assert.equal(sessions.length, 3, 'conv-42 has three runs');
});

test('the SQL behind a view is shown and copyable; the dark theme; nothing loaded from outside', async () => {
  await page.goto(`${base}/traces/${PY_RUN}`);
  await page.getByTestId('sql-button').click();
  const panel = page.getByRole('dialog', { name: 'The SQL behind this view' });
  assert.match(await panel.innerText(), /agent_trace\.trace_tree\('8bef85e718690b4f738c3d7e267a185e'::text::agent_trace\.trace_id/);
  await panel.getByRole('button', { name: 'Close' }).click();
  await page.getByTestId('theme-toggle').click();
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  await page.locator('.wf-row').first().waitFor();
  await shot('07-trace-dark');
  await page.reload();
  await page.locator('.wf-row').first().waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'the theme is remembered');
  assert.deepEqual(outside, [], 'requests outside the server');
  assert.deepEqual(pageErrors, [], 'errors in the page');
});

test('logging out ends the session: the viewer asks for the token again', async () => {
  await page.goto(`${base}/sessions`);
  const cookies = await page.context().cookies();
  const session = cookies.find((cookie) => cookie.name === 'agent_trace_session');
  assert.ok(session, 'a session cookie');
  assert.notEqual(session.value, token, 'the cookie is not the token');
  assert.ok(session.httpOnly && session.sameSite === 'Strict', 'HttpOnly, SameSite=Strict');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login$/);
  // The old cookie, put back, opens nothing: the server forgot the session.
  await page.context().addCookies([session]);
  await page.goto(`${base}/sessions`);
  assert.match(page.url(), /\/login\?next=%2Fsessions/);
  assert.deepEqual(pageErrors, [], 'errors in the page');
});
