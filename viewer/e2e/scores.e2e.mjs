// Scores in a real browser, as a person uses them. ingest/tests/viewer.rs
// (scores_work_in_a_real_browser) starts PostgreSQL and agent-trace (with a token), posts every
// captured request, gives a few runs scores with agent_trace.add_score (an LLM judge's relevance, an
// end user's thumbs-up), then runs this with VIEWER_URL, VIEWER_TOKEN and ARTIFACTS (as
// viewer.e2e.mjs). A person opens a run, gives one of its spans a thumbs-down with a comment, sees it
// on the span, then filters the list by it and finds that run and no other; the diff shows two runs'
// scores side by side and the sessions page charts a score over time.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './browser.mjs';

const base = process.env.VIEWER_URL;
const token = process.env.VIEWER_TOKEN;
const artifacts = process.env.ARTIFACTS ?? 'e2e-artifacts';
if (!base || !token) throw new Error('set VIEWER_URL and VIEWER_TOKEN (ingest/tests/viewer.rs does)');
mkdirSync(artifacts, { recursive: true });

// The captured runs (tests/fixtures/otlp/), and the span scored.
const PY_RUN = '8bef85e718690b4f738c3d7e267a185e';
const OPENINFERENCE = '70bd3471974e8d134eebca919adaa71f';
const CODEX_TURN = '753bd5bf6b1a2d630970c6de86d46ad2';
const TOOL_SPAN = 'b44a6bb020e2d6c6';

let browser;
let page;
const outside = [];
const pageErrors = [];

before(async () => {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('data:')) outside.push(request.url());
  });
  page.on('pageerror', (error) => pageErrors.push(`${error.message}\n${error.stack ?? ''}`));
  page.setDefaultTimeout(15_000);
  await page.goto(`${base}/login`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
});

after(async () => {
  await browser?.close();
});

const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`) });
const row = (traceId) => page.locator(`.trace-table [data-trace-id="${traceId}"]`);
// A score's chip: its name, and its label or value (thumbs are drawn as icons, named by data-label).
const chip = (within, name, label) => within.locator(`.score-chip[data-score="${name}"]${label ? `[data-label="${label}"]` : ''}`);

test('the list shows each run\'s latest score of each name', async () => {
  await page.goto(`${base}/?range=all`);
  await page.locator('.trace-table .tr').first().waitFor();
  // The Python agent ran first: scroll to the end of the list (rows are drawn as they scroll in).
  await page.locator('.trace-table .tbody').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await row(PY_RUN).waitFor();
  // Two relevance scores, 0.8 a day ago and 0.3 two hours ago: the latest shows.
  assert.equal(await row(PY_RUN).locator('.score-chip').innerText(), 'relevance 0.3');
  await page.locator('.trace-table .tbody').evaluate((el) => el.scrollTo({ top: 0 }));
  await row(CODEX_TURN).waitFor();
  assert.equal(await chip(row(CODEX_TURN), 'thumbs', 'thumbs_up').count(), 1);
  assert.equal(await chip(row(CODEX_TURN), 'thumbs', 'thumbs_up').locator('svg.lucide-thumbs-up').count(), 1);
});

test('a person gives a span a thumbs-down with a comment, and sees it on the span', async () => {
  await page.goto(`${base}/traces/${PY_RUN}?span=${TOOL_SPAN}`);
  const box = page.getByTestId('span-scores');
  await box.waitFor();
  assert.match(await box.innerText(), /No scores yet/);
  await box.getByLabel('Comment').fill('wrong city: asked for Paris, Texas');
  await box.getByRole('button', { name: 'Thumbs down' }).click();
  const given = box.getByTestId('score-list').locator('li');
  await given.first().waitFor();
  assert.equal(await given.count(), 1);
  assert.match(await given.first().innerText(), /thumbs[\s\S]*human[\s\S]*wrong city: asked for Paris, Texas/);
  assert.equal(await chip(given.first(), 'thumbs', 'thumbs_down').count(), 1);
  assert.equal(await box.getByLabel('Comment').inputValue(), '', 'the form is cleared');
  // The span is marked in the waterfall, and the run's scores now include it.
  const span = page.locator(`.wf-row[data-span-id="${TOOL_SPAN}"]`);
  assert.equal(await chip(span, 'thumbs', 'thumbs_down').count(), 1);
  const header = page.getByTestId('trace-scores');
  assert.match(await header.innerText(), /relevance 0\.3/);
  assert.equal(await chip(header, 'thumbs', 'thumbs_down').count(), 1);
  await shot('s1-span-thumbs-down');

  // Stored, not just drawn: a reload shows it from the database.
  await page.reload();
  await page.locator(`.wf-row[data-span-id="${TOOL_SPAN}"] .score-chip`).waitFor();
  assert.match(await page.getByTestId('span-scores').innerText(), /wrong city/);

  // A value and a label, with a name of one's own; bad input is refused where it is typed.
  await page.getByTestId('span-scores').getByLabel('Score name').fill('accuracy');
  await page.getByTestId('span-scores').getByLabel('Score value').fill('0.25');
  await page.getByTestId('span-scores').getByRole('button', { name: 'Add' }).click();
  await page.getByTestId('span-scores').locator('li', { hasText: 'accuracy' }).waitFor();
  assert.match(await page.getByTestId('span-scores').locator('li', { hasText: 'accuracy' }).innerText(), /accuracy 0\.25/);
  await page.getByTestId('span-scores').getByLabel('Score name').fill('x'.repeat(201));
  await page.getByTestId('span-scores').getByLabel('Score label').fill('long');
  await page.getByTestId('span-scores').getByRole('button', { name: 'Add' }).click();
  await page.getByTestId('span-scores').getByRole('alert').filter({ hasText: 'at most 200' }).waitFor();
});

test('the list filters by the score: that run and no other', async () => {
  await page.goto(`${base}/?range=all`);
  await page.locator('.trace-table .tr').first().waitFor();
  const all = await page.locator('.trace-table .tr').count();
  assert.ok(all > 3, `${all} traces listed`);
  // A field applies when it is left (a change event), and keeps what was typed until then while
  // the list redraws (it did not: a live update could wipe it).
  await page.getByLabel('Filter by score name').fill('thumbs');
  await page.getByLabel('Filter by score name').press('Tab');
  await page.waitForURL(/score=thumbs/);
  await page.getByLabel('Score label').fill('thumbs_down');
  await page.getByLabel('Score label').press('Tab');
  await page.waitForURL(/score_label=thumbs_down/);
  await page.waitForFunction(() => document.querySelectorAll('.trace-table .tr').length === 1);
  assert.equal(await page.locator('.trace-table .tr').getAttribute('data-trace-id'), PY_RUN);
  // The score filtered by comes first among the run's scores; the end user's thumbs-up on the Codex
  // turn is not a thumbs-down.
  assert.equal(await row(PY_RUN).locator('.score-chip').first().getAttribute('data-label'), 'thumbs_down');
  await shot('s2-list-filtered-by-score');
  // A value range: relevance at most 0.5 is the Python run (0.3), at least 0.85 the OpenInference one.
  await page.goto(`${base}/?range=all&score=relevance&score_max=0.5`);
  await page.waitForFunction(() => document.querySelectorAll('.trace-table .tr').length === 1);
  assert.equal(await page.locator('.trace-table .tr').getAttribute('data-trace-id'), PY_RUN);
  await page.goto(`${base}/?range=all&score=relevance&score_min=0.85`);
  await page.waitForFunction(() => document.querySelector('.trace-table .tr')?.getAttribute('data-trace-id') === '70bd3471974e8d134eebca919adaa71f');
  assert.equal(await page.locator('.trace-table .tr').count(), 1);
});

test('the run itself gets a score, beside its spans\' ones', async () => {
  await page.goto(`${base}/traces/${PY_RUN}?span=${TOOL_SPAN}`);
  const span = page.locator(`.wf-row[data-span-id="${TOOL_SPAN}"]`);
  await span.locator('.score-chip').first().waitFor();
  await page.getByRole('button', { name: 'score the run' }).click();
  const run = page.getByTestId('run-scores');
  // Its list holds the judge's two relevance scores (of the run, no span) already.
  assert.equal(await run.getByTestId('score-list').locator('li').count(), 2);
  await run.getByRole('button', { name: 'Thumbs up' }).click();
  await run.getByTestId('score-list').locator('li', { hasText: 'thumbs' }).waitFor();
  assert.equal(await chip(run.getByTestId('score-list').locator('li').first(), 'thumbs', 'thumbs_up').count(), 1);
  // The run's latest thumbs is now up (of the run and its spans, the latest counts).
  assert.equal(await chip(page.getByTestId('trace-scores'), 'thumbs', 'thumbs_up').count(), 1);
  // The span shows its latest score in the waterfall, the others behind "+1"; its panel lists both.
  assert.equal(await chip(span, 'accuracy').innerText(), 'accuracy 0.25');
  assert.equal(await span.locator('.score-more').innerText(), '+1');
  assert.equal(await chip(page.getByTestId('span-scores'), 'thumbs', 'thumbs_down').count(), 1);
  await shot('s5-run-scores');
});

test('the diff shows the two runs\' scores side by side', async () => {
  await page.goto(`${base}/diff?a=${PY_RUN}&b=${OPENINFERENCE}`);
  const table = page.getByTestId('diff-scores');
  await table.waitFor();
  const relevance = await table.locator('tr[data-score=relevance]').innerText();
  assert.match(relevance, /^relevance\s+0\.3\s+latest of 2\s+0\.9\s+\+0\.6$/);
  const thumbs = table.locator('tr[data-score=thumbs]');
  assert.equal(await chip(thumbs.locator('td').nth(1), 'thumbs', 'thumbs_up').count(), 1, "A's latest thumbs: the run's, up");
  assert.equal(await thumbs.locator('td').nth(2).innerText(), '–', 'B has none');
  await shot('s3-diff-scores');
});

test('the sessions page charts a chosen score over time', async () => {
  await page.goto(`${base}/sessions?score=relevance`);
  const chart = page.getByTestId('chart-score');
  await chart.locator('canvas').waitFor();
  assert.match(await chart.innerText(), /average relevance/);
  const options = await page.getByLabel('Score', { exact: true }).locator('option').allInnerTexts();
  assert.deepEqual(options.sort(), ['accuracy', 'relevance', 'thumbs']);
  await page.getByLabel('Score', { exact: true }).selectOption('thumbs');
  await page.waitForURL(/score=thumbs/);
  const labels = page.getByTestId('chart-score-labels');
  await labels.locator('canvas').waitFor();
  assert.match(await labels.innerText(), /thumbs_down 1/);
  assert.match(await labels.innerText(), /thumbs_up 2/);
  await shot('s4-sessions-score-chart');
  // The scores in the dark theme too.
  await page.goto(`${base}/traces/${PY_RUN}?span=${TOOL_SPAN}`);
  await page.getByTestId('theme-toggle').click();
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  await page.getByTestId('span-scores').waitFor();
  await shot('s6-scores-dark');
  assert.deepEqual(outside, [], 'requests outside the server');
  assert.deepEqual(pageErrors, [], 'errors in the page');
});
