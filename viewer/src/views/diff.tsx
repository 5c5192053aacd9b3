// Two runs (or two turns) side by side: diff_summary's deltas, the runs' scores by name,
// diff_traces' aligned tree with same / changed / added / removed, and the first divergence
// highlighted and scrolled to.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ArrowRight } from 'lucide-preact';
import { getJson, type DiffRow, type DiffScore, type DiffSummary, type TraceDetail, type TraceRow, type Turn } from '../api';
import * as f from '../format';
import { Failure, Loading, SpanIcon, SqlButton, useLoad } from '../ui';
import { useVirtualRows } from '../virtual';
import { ScoreChip } from './scores';

const ROW_HEIGHT = 30;

interface DiffAnswer {
  a: TraceDetail;
  b: TraceDetail;
  summary?: DiffSummary;
  rows: DiffRow[];
  scores: DiffScore[];
}

/** The two runs' scores, per name: the latest of each (its spans' included), and how many. */
function Scores({ scores }: { scores: DiffScore[] }) {
  if (scores.length === 0) return null;
  const side = (name: string, value: number | null, label: string | null, count: number | null) =>
    count ? (
      <>
        <ScoreChip name={name} value={value} label={label} bare /> {count > 1 && <span class="muted small">latest of {count}</span>}
      </>
    ) : (
      <span class="muted">–</span>
    );
  return (
    <table class="diff-scores" data-testid="diff-scores">
      <thead>
        <tr>
          <th>Score</th>
          <th>A</th>
          <th>B</th>
          <th class="num">B − A</th>
        </tr>
      </thead>
      <tbody>
        {scores.map((s) => (
          <tr key={s.name} data-score={s.name}>
            <td>{s.name}</td>
            <td>{side(s.name, s.value_a, s.label_a, s.count_a)}</td>
            <td>{side(s.name, s.value_b, s.label_b, s.count_b)}</td>
            <td class="num delta" title="the latest values' difference; whether higher is better depends on the score">
              {s.value_delta === null ? '' : f.delta(s.value_delta, f.scoreValue)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function num(value: unknown): number | null {
  return typeof value === 'number' ? value : value === null || value === undefined ? null : Number(value);
}

function Delta({ label, a, b, d, as }: { label: string; a: unknown; b: unknown; d: unknown; as: (v: number | null) => string }) {
  const change = num(d);
  return (
    <div class="stat delta-stat" data-testid={`delta-${label}`}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">
        {as(num(a))} <ArrowRight size={12} /> {as(num(b))}
      </div>
      <div class={`delta ${change === null || change === 0 ? '' : change > 0 ? 'up' : 'down'}`}>{f.delta(change, (v) => as(v))}</div>
    </div>
  );
}

function Picker({ side, value, span, recent, onChange }: { side: 'A' | 'B'; value: string; span: string; recent: TraceRow[]; onChange: (id: string, span: string) => void }) {
  const [id, setId] = useState(value);
  useEffect(() => setId(value), [value]);
  const turns = useLoad(`turns/${value}`, (signal) =>
    value ? getJson<{ turns: Turn[] }>(`/api/traces/${value}/turns`, {}, signal) : Promise.resolve({ turns: [] as Turn[], sql: [] }),
  );
  return (
    <div class="picker">
      <label>
        <strong>{side}</strong>
        <input
          list="recent-traces"
          value={id}
          placeholder="trace id"
          aria-label={`Trace ${side}`}
          onInput={(event) => setId((event.target as HTMLInputElement).value.trim())}
          onChange={() => onChange(id, '')}
        />
      </label>
      {(turns.data?.turns.length ?? 0) > 1 && (
        <select aria-label={`Turn of ${side}`} value={span} onChange={(event) => onChange(value, (event.target as HTMLSelectElement).value)}>
          <option value="">whole trace</option>
          {turns.data?.turns.map((t) => (
            <option value={t.turn_span_id} key={t.turn_span_id}>
              turn {t.turn}: {t.name} ({t.span_count} spans)
            </option>
          ))}
        </select>
      )}
      {recent.length > 0 && side === 'A' && (
        <datalist id="recent-traces">
          {recent.map((row) => (
            <option value={row.trace_id} key={row.trace_id}>
              {row.name} · {f.time(row.start_time)}
            </option>
          ))}
        </datalist>
      )}
    </div>
  );
}

function Rows({ rows, divergence, a, b }: { rows: DiffRow[]; divergence: number | null; a: string; b: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualRows({ count: rows.length, rowHeight: ROW_HEIGHT, scrollElement: () => scroller.current });
  useEffect(() => {
    if (divergence !== null) virtual.scrollToIndex(Math.max(0, rows.findIndex((row) => row.step === divergence)), { align: 'center' });
  }, [divergence, rows]);
  return (
    <div class="table diff-table">
      <div class="thead">
        <span class="d-step">#</span>
        <span class="d-change">change</span>
        <span class="d-name">span</span>
        <span class="d-model">model A → B</span>
        <span class="d-num">tokens A → B</span>
        <span class="d-num">duration A → B</span>
        <span class="d-flags">differs</span>
      </div>
      <div class="tbody" ref={scroller}>
        <div style={{ height: `${virtual.getTotalSize()}px`, position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const row = rows[item.index];
            const first = row.step === divergence;
            return (
              <div
                key={row.step}
                class={`tr change-${row.change} ${first ? 'first-divergence' : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: `${ROW_HEIGHT}px` }}
                data-step={row.step}
                data-change={row.change}
              >
                <span class="d-step">{row.step}</span>
                <span class="d-change">
                  <span class={`change-badge ${row.change}`}>{row.change}</span>
                </span>
                <span class="d-name" style={{ paddingLeft: `${row.depth * 14}px` }} title={row.path}>
                  <SpanIcon type={row.span_type} /> {row.name}
                  {first && <span class="tag divergence-tag">first divergence</span>}
                  {row.span_id_a && <a class="small" href={`/traces/${a}?span=${row.span_id_a}`}>A</a>}
                  {row.span_id_b && <a class="small" href={`/traces/${b}?span=${row.span_id_b}`}>B</a>}
                </span>
                <span class="d-model">{row.model_a === row.model_b ? row.model_a ?? '' : `${row.model_a ?? '–'} → ${row.model_b ?? '–'}`}</span>
                <span class="d-num">
                  {f.tokens(row.tokens_a)} → {f.tokens(row.tokens_b)}
                  {row.tokens_delta ? <span class={`delta ${row.tokens_delta > 0 ? 'up' : 'down'}`}> {f.delta(row.tokens_delta)}</span> : null}
                </span>
                <span class="d-num">
                  {f.duration(row.duration_ms_a)} → {f.duration(row.duration_ms_b)}
                </span>
                <span class="d-flags">
                  {row.input_differs && <span class="tag">input</span>}
                  {row.output_differs && <span class="tag">output</span>}
                  {row.status_a !== row.status_b && row.change === 'changed' && <span class="tag">status</span>}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

export function DiffView() {
  const location = useLocation();
  const { a = '', b = '', span_a = '', span_b = '' } = location.query;
  const recent = useLoad('recent', (signal) => getJson<{ traces: TraceRow[] }>('/api/traces', { limit: 50 }, signal));
  const set = (changes: Record<string, string>) => {
    const query = new URLSearchParams({ a, b, span_a, span_b, ...changes });
    for (const key of [...query.keys()]) if (!query.get(key)) query.delete(key);
    location.route(`/diff?${query}`);
  };
  const ready = Boolean(a && b);
  const diff = useLoad(`${a}/${b}/${span_a}/${span_b}`, (signal) =>
    ready ? getJson<DiffAnswer>('/api/diff', { a, b, span_a, span_b }, signal) : Promise.resolve(undefined),
  );
  const s = diff.data?.summary ?? {};
  const divergence = num(s.first_divergence_step);
  return (
    <div class="page diff-page">
      <div class="toolbar">
        <h1>Diff</h1>
        <Picker side="A" value={a} span={span_a} recent={recent.data?.traces ?? []} onChange={(id, span) => set({ a: id, span_a: span })} />
        <Picker side="B" value={b} span={span_b} recent={[]} onChange={(id, span) => set({ b: id, span_b: span })} />
        <button type="button" class="button" onClick={() => set({ a: b, b: a, span_a: span_b, span_b: span_a })} disabled={!ready}>
          Swap
        </button>
        <div class="spacer" />
        {diff.data && <SqlButton queries={diff.data.sql} />}
      </div>
      {!ready && <div class="state">Pick two traces: type or paste their ids (the list suggests recent ones), or tick two in the trace list and press Compare.</div>}
      {diff.error !== undefined && <Failure error={diff.error} />}
      {ready && !diff.data && !diff.error && <Loading what="the diff" />}
      {diff.data && (
        <>
          <div class="diff-heads">
            <a href={`/traces/${a}`}>
              <strong>A</strong> {diff.data.a.name} <span class="muted small">{f.time(diff.data.a.start_time)}</span>
            </a>
            <a href={`/traces/${b}`}>
              <strong>B</strong> {diff.data.b.name} <span class="muted small">{f.time(diff.data.b.start_time)}</span>
            </a>
          </div>
          <div class="stats">
            <Delta label="Spans" a={s.spans_a} b={s.spans_b} d={s.spans_delta} as={f.count} />
            <Delta label="Duration" a={s.duration_ms_a} b={s.duration_ms_b} d={s.duration_delta_ms} as={f.duration} />
            <Delta label="LLM calls" a={s.llm_calls_a} b={s.llm_calls_b} d={s.llm_calls_delta} as={f.count} />
            <Delta label="Tool calls" a={s.tool_calls_a} b={s.tool_calls_b} d={s.tool_calls_delta} as={f.count} />
            <Delta label="Errors" a={s.errors_a} b={s.errors_b} d={s.errors_delta} as={f.count} />
            <Delta label="In tokens" a={s.input_tokens_a} b={s.input_tokens_b} d={s.input_tokens_delta} as={f.tokens} />
            <Delta label="Out tokens" a={s.output_tokens_a} b={s.output_tokens_b} d={s.output_tokens_delta} as={f.tokens} />
            <Delta label="Reported cost" a={s.cost_usd_a} b={s.cost_usd_b} d={s.cost_delta_usd} as={f.usd} />
            <Delta label="Computed cost" a={s.computed_cost_usd_a} b={s.computed_cost_usd_b} d={s.computed_cost_delta_usd} as={f.usd} />
          </div>
          <Scores scores={diff.data.scores ?? []} />
          {divergence !== null ? (
            <div class="divergence" role="status" data-testid="first-divergence">
              First divergence at step {divergence}: <strong>{String(s.first_divergence_kind)}</strong> <code>{String(s.first_divergence_path)}</code>, {f.duration(num(s.first_divergence_offset_ms))} into the run
            </div>
          ) : (
            <div class="divergence same" role="status" data-testid="first-divergence">
              No divergence: the runs recorded the same steps, inputs and outputs.
            </div>
          )}
          <Rows rows={diff.data.rows} divergence={divergence} a={a} b={b} />
        </>
      )}
    </div>
  );
}
