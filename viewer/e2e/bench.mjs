// Measures the viewer against a server loaded by scripts/bench-viewer.sh (100,000 traces and the
// 10,000-span trace b16...): the JSON API's latency per view, and Chromium's time to draw the list
// and the big trace and to scroll through it. Prints a Markdown table of medians.
import { launch } from './browser.mjs';

const base = process.env.VIEWER_URL;
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const BIG = 'b1600000000000000000000000000b16';
const deep = new URLSearchParams({ after: process.env.DEEP_AFTER ?? '', after_id: process.env.DEEP_AFTER_ID ?? '' });

const cases = [
  ['list: first page, 100 of 100,000 traces, newest first', '/api/traces?limit=100'],
  ['list: filtered page (a service, status ERROR: 250 of 100,000)', '/api/traces?limit=100&service=service-40&status=ERROR'],
  ['list: free text in names and previews (100 matches, scans all)', '/api/traces?limit=100&q=city%20976%3F'],
  ['list: deep page, keyset after row 50,000', `/api/traces?limit=100&${deep}`],
  ['list: sorted by duration (sorts 100,000)', '/api/traces?limit=100&sort=duration'],
  ['filter choices (facets, all time)', '/api/facets'],
  ['trace view, 10,000 spans (row, tree, critical path, turns, logs)', `/api/traces/${BIG}`],
  ['replay steps, 10,000 spans', `/api/traces/${BIG}/replay`],
  ['sessions page (agent_sessions, 5,000 sessions)', '/api/sessions?limit=200'],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const ms = (x) => x.toFixed(x < 10 ? 2 : 1);

async function timed(path) {
  const start = performance.now();
  const response = await fetch(base + path);
  const body = await response.arrayBuffer();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${new TextDecoder().decode(body)}`);
  return [performance.now() - start, body.byteLength];
}

console.log(`\n| viewer API (${rounds} requests each, after 2 warm-ups) | median ms | p95 ms | rows/answer size |`);
console.log('|---|---|---|---|');
for (const [label, path] of cases) {
  for (let i = 0; i < 2; i++) await timed(path);
  const times = [];
  let size = 0;
  for (let i = 0; i < rounds; i++) {
    const [t, bytes] = await timed(path);
    times.push(t);
    size = bytes;
  }
  console.log(`| ${label} | ${ms(median(times))} | ${ms(p95(times))} | ${(size / 1024).toFixed(0)} KiB |`);
}

// In the browser: navigation to first rows drawn (the page's own clock), for the list and for the
// 10,000-span trace; then scrolling the trace's waterfall from top to bottom.
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const firstRows = (selector) =>
  page.evaluate(
    (sel) =>
      new Promise((resolve) => {
        const check = () => (document.querySelector(sel) ? resolve(performance.now()) : requestAnimationFrame(check));
        check();
      }),
    selector,
  );
const apiDone = (part) => page.evaluate((p) => performance.getEntriesByType('resource').filter((e) => e.name.includes(p)).map((e) => e.responseEnd)[0] ?? 0, part);

const browserRounds = Math.max(5, Math.floor(rounds / 2));
const measure = async (url, selector, apiPart) => {
  const total = [];
  const render = [];
  for (let i = 0; i < browserRounds + 1; i++) {
    await page.goto('about:blank');
    await page.goto(url, { waitUntil: 'commit' });
    const drawn = await firstRows(selector);
    const fetched = await apiDone(apiPart);
    if (i === 0) continue; // warm-up
    total.push(drawn);
    render.push(drawn - fetched);
  }
  return [median(total), median(render)];
};
const [listTotal, listRender] = await measure(`${base}/`, '.trace-table .tr', '/api/traces?');
const [traceTotal, traceRender] = await measure(`${base}/traces/${BIG}`, '.wf-row', `/api/traces/${BIG}`);

// Scrolling: 60 jumps of 1,500 px through the 10,000 rows, each timed to the second frame after it.
const scroll = await page.evaluate(
  () =>
    new Promise((resolve) => {
      const body = document.querySelector('.waterfall-body');
      const frames = [];
      let rows = 0;
      let step = 0;
      const jump = () => {
        if (step++ === 60) return resolve({ frames, rows, height: body.scrollHeight });
        const start = performance.now();
        body.scrollTop += 1500;
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            frames.push(performance.now() - start);
            rows = Math.max(rows, document.querySelectorAll('.wf-row').length);
            jump();
          }),
        );
      };
      jump();
    }),
);
await browser.close();

console.log(`\n| in Chromium (median of ${browserRounds} loads) | ms |`);
console.log('|---|---|');
console.log(`| trace list: navigation to first rows drawn | ${ms(listTotal)} |`);
console.log(`| trace list: API answer received to rows drawn | ${ms(listRender)} |`);
console.log(`| 10,000-span trace: navigation to waterfall drawn | ${ms(traceTotal)} |`);
console.log(`| 10,000-span trace: API answer received to waterfall drawn | ${ms(traceRender)} |`);
console.log(`| 10,000-span trace: scroll jump to second frame after (median of 60; p95 ${ms(p95(scroll.frames))}) | ${ms(median(scroll.frames))} |`);
console.log(`\nAt most ${scroll.rows} waterfall rows were in the DOM at once for ${10000} spans (${scroll.height} px of rows).`);
