// Sessions and cost: one row per session from agent_sessions (Claude Code, Gemini CLI, Codex and
// traced agents alike) with tokens and both costs, and charts over time: tokens by model from the
// token counters (agent_metric_deltas), cost by tool from the log events that report each call, and
// a score chosen by name (agent_scores): its average value and its labels per bucket.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import uPlot from 'uplot';
import { getJson, type CallBucket, type ScoreLabelBucket, type ScoreName, type ScoreValueBucket, type SessionRow, type Shown, type TokenBucket } from '../api';
import * as f from '../format';
import { Failure, Loading, RangePicker, SqlButton, resolveRange, useLoad, type RangeValue } from '../ui';

const PAGE = 200;
/** Axis steps for counts: whole numbers only. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 100_000, 1_000_000];
const PALETTE = ['#4f46e5', '#0891b2', '#d97706', '#16a34a', '#db2777', '#7c3aed', '#dc2626', '#65a30d', '#0d9488', '#9333ea'];

/** A bucket (interval and its length) that gives at most 60 bars over the range. */
function bucketFor(from: string | undefined, to: string | undefined, first?: string, last?: string): [number, string] {
  const start = from ? Date.parse(from) : first ? Date.parse(first) : Date.now() - 86_400_000;
  const end = to ? Date.parse(to) : Math.max(Date.now(), last ? Date.parse(last) : 0);
  const span = Math.max(end - start, 60_000);
  const choices: [number, string][] = [
    [60_000, '1 minute'],
    [300_000, '5 minutes'],
    [900_000, '15 minutes'],
    [3_600_000, '1 hour'],
    [6 * 3_600_000, '6 hours'],
    [86_400_000, '1 day'],
    [7 * 86_400_000, '7 days'],
  ];
  return choices.find(([ms]) => span / ms <= 60) ?? choices[choices.length - 1];
}

interface Series {
  label: string;
  values: Map<number, number>;
}

/** Stacked bars: each series drawn over the sum of the ones after it, the legend showing its own value. */
function Chart({ title, series, format, theme, testId, step, color, whole }: { title: string; series: Series[]; format: (v: number) => string; theme: string; testId: string; step: number; color: (label: string) => string; whole?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current || series.length === 0) return;
    const xs = [...new Set(series.flatMap((s) => [...s.values.keys()]))].sort((a, b) => a - b);
    const own = series.map((s) => xs.map((x) => s.values.get(x) ?? 0));
    const stacked = own.map((_, i) => xs.map((__, j) => own.slice(i).reduce((sum, values) => sum + values[j], 0)));
    const style = getComputedStyle(document.documentElement);
    const ink = style.getPropertyValue('--muted').trim() || '#888';
    const grid = style.getPropertyValue('--line').trim() || '#8883';
    const axis = { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid } };
    const width = box.current.clientWidth || 600;
    const plot = new uPlot(
      {
        width,
        height: 220,
        padding: [12, 12, 0, 0],
        // Bars stand on zero: an automatic range would start near the smallest stack.
        scales: { x: { time: true, auto: false, range: [xs[0] - step, xs[xs.length - 1] + step] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [axis, { ...axis, size: 70, values: (_u, values) => values.map((v) => format(v)), ...(whole ? { incrs: WHOLE_STEPS } : {}) }],
        series: [
          {},
          ...series.map((s, i) => ({
            label: `${s.label} ${format(own[i].reduce((sum, v) => sum + v, 0))}`,
            stroke: color(s.label),
            fill: color(s.label) + 'cc',
            width: 1,
            paths: uPlot.paths.bars!({ size: [0.7, 48], align: 0 }),
            points: { show: false },
          })),
        ],
        legend: { live: false },
      },
      [xs, ...stacked],
      box.current,
    );
    const resize = () => box.current && plot.setSize({ width: box.current.clientWidth, height: 220 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [series, theme, step, color]);
  return (
    <section class="chart" data-testid={testId}>
      <h3>{title}</h3>
      {series.length === 0 ? <div class="state">Nothing reported in this range.</div> : <div ref={box} />}
    </section>
  );
}

/** One value per bucket as a line with points: a score's average. */
function LineChart({ title, points, format, theme, testId, step, label, children }: { title: string; points: [number, number][]; format: (v: number) => string; theme: string; testId: string; step: number; label: string; children?: preact.ComponentChildren }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current || points.length === 0) return;
    const style = getComputedStyle(document.documentElement);
    const ink = style.getPropertyValue('--muted').trim() || '#888';
    const grid = style.getPropertyValue('--line').trim() || '#8883';
    const accent = style.getPropertyValue('--accent').trim() || PALETTE[0];
    const axis = { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid } };
    const xs = points.map(([x]) => x);
    const plot = new uPlot(
      {
        width: box.current.clientWidth || 600,
        height: 220,
        padding: [12, 12, 0, 0],
        scales: { x: { time: true, auto: false, range: [xs[0] - step, xs[xs.length - 1] + step] } },
        axes: [axis, { ...axis, size: 70, values: (_u, values) => values.map((v) => format(v)) }],
        series: [{}, { label, stroke: accent, width: 2, points: { show: true, size: 6, fill: accent } }],
        legend: { live: false },
      },
      [xs, points.map(([, y]) => y)],
      box.current,
    );
    const resize = () => box.current && plot.setSize({ width: box.current.clientWidth, height: 220 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [points, theme, step, label]);
  return (
    <section class="chart" data-testid={testId}>
      <div class="chart-head">
        <h3>{title}</h3>
        {children}
      </div>
      {points.length === 0 ? <div class="state">No values in this range.</div> : <div ref={box} />}
    </section>
  );
}

const LABEL_COLORS: Record<string, string> = { thumbs_up: '#16a34a', thumbs_down: '#dc2626', pass: '#16a34a', fail: '#dc2626' };

/** A score chosen by name: its average value per bucket, and how many of each label. */
function ScoreCharts({ range, bucket, step, theme, chosen, onChoose, onSql }: { range: { from?: string; to?: string }; bucket: string; step: number; theme: string; chosen?: string; onChoose: (name: string) => void; onSql: (sql: Shown[]) => void }) {
  const names = useLoad(`names/${JSON.stringify(range)}`, (signal) => getJson<{ names: ScoreName[] }>('/api/scores', range, signal));
  const name = chosen ?? names.data?.names[0]?.name;
  const stats = useLoad(`stats/${JSON.stringify(range)}/${bucket}/${name}`, (signal) =>
    name ? getJson<{ names: ScoreName[]; values: ScoreValueBucket[]; labels: ScoreLabelBucket[] }>('/api/scores', { ...range, bucket, name }, signal) : Promise.resolve(undefined),
  );
  useEffect(() => onSql(stats.data?.sql ?? names.data?.sql ?? []), [stats.data, names.data]);
  const points = useMemo(
    () => (stats.data?.values ?? []).filter((row) => row.avg_value !== null).map((row) => [Date.parse(row.bucket) / 1000, Number(row.avg_value)] as [number, number]),
    [stats.data],
  );
  const labels = useMemo(() => group(stats.data?.labels ?? [], (r) => r.label, (r) => Number(r.scores), (r) => r.bucket), [stats.data]);
  const color = useMemo(() => {
    const known = labels.map((s) => s.label).sort();
    return (label: string) => LABEL_COLORS[label] ?? PALETTE[known.indexOf(label) % PALETTE.length];
  }, [labels]);
  const choices = names.data?.names ?? [];
  const picker = (
    <select aria-label="Score" value={name ?? ''} onChange={(event) => onChoose((event.target as HTMLSelectElement).value)}>
      {choices.length === 0 && <option value="">no scores</option>}
      {[...choices.map((n) => n.name), ...(name && !choices.some((n) => n.name === name) ? [name] : [])].map((n) => (
        <option key={n} value={n}>
          {n}
        </option>
      ))}
    </select>
  );
  if (names.error !== undefined) return <Failure error={names.error} />;
  return (
    <>
      <LineChart title={`Average ${name ?? 'score'} per ${bucket}`} label={`average ${name ?? ''}`} points={points} format={(v) => f.scoreValue(v)} theme={theme} testId="chart-score" step={step}>
        {picker}
      </LineChart>
      {labels.length > 0 && <Chart title={`${name} labels (how many of each)`} series={labels} format={(v) => f.count(v)} theme={theme} testId="chart-score-labels" step={step} color={color} whole />}
    </>
  );
}

function group<T>(rows: T[], label: (row: T) => string, value: (row: T) => number, at: (row: T) => string): Series[] {
  const bySeries = new Map<string, Map<number, number>>();
  for (const row of rows) {
    const key = label(row);
    const x = Date.parse(at(row)) / 1000;
    const values = bySeries.get(key) ?? new Map<number, number>();
    values.set(x, (values.get(x) ?? 0) + value(row));
    bySeries.set(key, values);
  }
  return [...bySeries.entries()].map(([label, values]) => ({ label, values })).sort((a, b) => a.label.localeCompare(b.label));
}

export function SessionsView({ theme }: { theme: string }) {
  const location = useLocation();
  const query = location.query;
  const range: RangeValue = { range: query.range ?? 'all', from: query.from, to: query.to };
  const key = JSON.stringify([range, query.tool]);
  const timeWindow = useMemo(() => resolveRange(range), [key]);
  const [extra, setExtra] = useState<SessionRow[]>([]);
  const [more, setMore] = useState(true);
  const sessions = useLoad(key, (signal) => getJson<{ sessions: SessionRow[] }>('/api/sessions', { ...timeWindow, tool: query.tool, limit: PAGE }, signal));
  useEffect(() => {
    setExtra([]);
    setMore(true);
  }, [key]);
  const rows = [...(sessions.data?.sessions ?? []), ...extra];
  const first = rows.length ? rows[rows.length - 1].first_activity : undefined;
  const last = rows.length ? rows[0].last_activity : undefined;
  const [bucketMs, bucket] = bucketFor(timeWindow.from, timeWindow.to, first, last);
  const usage = useLoad(`${key}/${bucket}`, (signal) => getJson<{ tokens: TokenBucket[]; calls: CallBucket[] }>('/api/usage', { ...timeWindow, bucket }, signal));
  const by: 'model' | 'tool' = query.by === 'tool' ? 'tool' : 'model';
  const tokenSeries = useMemo(() => group(usage.data?.tokens ?? [], (r) => r[by], (r) => Number(r.tokens), (r) => r.bucket), [usage.data, by]);
  const costSeries = useMemo(
    () => group(usage.data?.calls ?? [], (r) => r[by], (r) => Number(r.cost_usd ?? 0) + Number(r.computed_cost_usd ?? 0), (r) => r.bucket),
    [usage.data, by],
  );
  // One colour per model or tool, the same in both charts.
  const color = useMemo(() => {
    const labels = [...new Set([...tokenSeries, ...costSeries].map((s) => s.label))].sort();
    return (label: string) => PALETTE[labels.indexOf(label) % PALETTE.length];
  }, [tokenSeries, costSeries]);
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(location.url.split('?')[1] ?? '');
    for (const [k, v] of Object.entries(changes)) v ? next.set(k, v) : next.delete(k);
    location.route(`/sessions${next.toString() ? `?${next}` : ''}`, true);
  };
  const loadMore = async () => {
    const tail = rows[rows.length - 1];
    const answer = await getJson<{ sessions: SessionRow[] }>('/api/sessions', { ...timeWindow, tool: query.tool, limit: PAGE, after: tail.last_activity, after_id: tail.session_id });
    setExtra([...extra, ...answer.sessions]);
    setMore(answer.sessions.length === PAGE);
  };
  const tools = [...new Set(rows.map((r) => r.tool).filter(Boolean))] as string[];
  const [scoreSql, setScoreSql] = useState<Shown[]>([]);
  const sql: Shown[] = [...(sessions.data?.sql ?? []), ...(usage.data?.sql ?? []), ...scoreSql];
  return (
    <div class="page sessions-page">
      <div class="toolbar">
        <h1>Sessions &amp; cost</h1>
        <RangePicker value={range} onChange={(v) => set({ range: v.range === 'all' ? undefined : v.range, from: v.from, to: v.to })} />
        <select aria-label="Tool" value={query.tool ?? ''} onChange={(event) => set({ tool: (event.target as HTMLSelectElement).value || undefined })}>
          <option value="">Every tool</option>
          {[...new Set([...tools, ...(query.tool ? [query.tool] : [])])].map((tool) => (
            <option key={tool} value={tool}>
              {tool}
            </option>
          ))}
        </select>
        <div class="segmented" role="group" aria-label="Charts by">
          <button type="button" class={by === 'model' ? 'on' : ''} onClick={() => set({ by: undefined })}>
            by model
          </button>
          <button type="button" class={by === 'tool' ? 'on' : ''} onClick={() => set({ by: 'tool' })}>
            by tool
          </button>
        </div>
        <div class="spacer" />
        <span class="muted small">charts in buckets of {bucket}</span>
        <SqlButton queries={sql} />
      </div>
      <div class="charts">
        {usage.error !== undefined && <Failure error={usage.error} />}
        <Chart title={`Tokens by ${by} (input + output, from the token counters)`} series={tokenSeries} format={(v) => f.tokens(v)} theme={theme} testId="chart-tokens" step={bucketMs / 1000} color={color} />
        <Chart title={`Cost by ${by} (reported + computed, from the per-call log events)`} series={costSeries} format={(v) => f.usd(v)} theme={theme} testId="chart-cost" step={bucketMs / 1000} color={color} />
        <ScoreCharts range={timeWindow} bucket={bucket} step={bucketMs / 1000} theme={theme} chosen={query.score} onChoose={(name) => set({ score: name || undefined })} onSql={setScoreSql} />
      </div>
      {sessions.error !== undefined && <Failure error={sessions.error} />}
      {!sessions.data && !sessions.error && <Loading what="sessions" />}
      {sessions.data && (
        <div class="scroll-table">
          <table class="sessions-table" data-testid="sessions">
            <thead>
              <tr>
                <th>Tool</th>
                <th>Session</th>
                <th>User</th>
                <th>Last activity</th>
                <th class="num">Prompts</th>
                <th class="num">Traces</th>
                <th class="num">Model calls</th>
                <th class="num">Tool calls</th>
                <th class="num">Errors</th>
                <th class="num">In tokens</th>
                <th class="num">Out tokens</th>
                <th class="num">Reported cost</th>
                <th class="num">Computed cost</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.session_id} data-session-id={s.session_id}>
                  <td>{s.tool}</td>
                  <td>
                    <a href={`/?session=${encodeURIComponent(s.session_id)}`} title="The session's traces">
                      {s.session_id}
                    </a>
                  </td>
                  <td title={s.user_id ?? ''}>
                    <span class="ellipsis">{s.user_id ?? ''}</span>
                  </td>
                  <td class="nowrap">{f.time(s.last_activity)}</td>
                  <td class="num">{f.count(s.prompts)}</td>
                  <td class="num">{f.count(s.traces)}</td>
                  <td class="num">{f.count(s.model_calls)}</td>
                  <td class="num">{f.count(s.tool_calls)}</td>
                  <td class={`num ${s.errors ? 'error-text' : ''}`}>{f.count(s.errors)}</td>
                  <td class="num">{f.tokens(s.input_tokens)}</td>
                  <td class="num">{f.tokens(s.output_tokens)}</td>
                  <td class="num">{f.usd(s.cost_usd)}</td>
                  <td class="num">{f.usd(s.computed_cost_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <div class="state">No sessions in this range.</div>}
          {rows.length >= PAGE && more && (
            <button type="button" class="button" onClick={loadMore}>
              Load more sessions
            </button>
          )}
        </div>
      )}
    </div>
  );
}
