// One trace: its totals and scores, its turns, a waterfall (bars placed by real start offsets,
// nested by the tree trace_tree gives, collapsible, the critical path highlighted, scored spans
// marked) and, beside it, the selected span in full with its scores, or the trace's logs. A person
// adds a score to a span or to the run here. A 10,000-span trace keeps only the visible rows in the
// DOM.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { ChevronDown, ChevronLeft, ChevronRight, CircleAlert, GitCompare, Play, Route as RouteIcon, Scale } from 'lucide-preact';
import { getJson, type LogRow, type ScoreRow, type ScoreSummary, type ScoresAnswer, type TraceDetail, type TreeNode, type Turn } from '../api';
import * as f from '../format';
import { CopyButton, Failure, Loading, SpanIcon, SqlButton, Stat, StatusBadge, useLoad } from '../ui';
import { useVirtualRows } from '../virtual';
import { SpanPanel } from './span';
import { ScoreBox, ScoreChip, latestPerName } from './scores';

const ROW_HEIGHT = 28;

interface TraceAnswer {
  trace: TraceDetail;
  tree: TreeNode[];
  critical_path: { step: number; span_id: string; critical_ms: number }[];
  turns: Turn[];
  logs: LogRow[];
  scores: ScoreRow[];
  score_summary: ScoreSummary[];
}

/** Rows left visible when some subtrees are collapsed: a subtree is the run of rows after its root. */
function visibleRows(tree: TreeNode[], collapsed: Set<string>): TreeNode[] {
  const rows: TreeNode[] = [];
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i];
    rows.push(node);
    if (collapsed.has(node.span_id)) i += node.subtree_spans - 1;
  }
  return rows;
}

/** Where a bar's label goes: after it, inside its end (a wide bar reaching the right), or before it. */
function labelAt(left: number, width: number): 'after' | 'inside' | 'before' {
  if (left + width < 70) return 'after';
  return width >= 15 ? 'inside' : 'before';
}

function Ticks({ total }: { total: number }) {
  return (
    <div class="ticks">
      {[0, 0.25, 0.5, 0.75, 1].map((at) => (
        <span key={at} style={{ left: `${at * 100}%` }}>
          {f.duration(total * at)}
        </span>
      ))}
    </div>
  );
}

function Waterfall({
  tree,
  critical,
  selected,
  onSelect,
  showCritical,
  scored,
}: {
  tree: TreeNode[];
  critical: Set<string>;
  selected?: string;
  onSelect: (spanId: string) => void;
  showCritical: boolean;
  /** The latest score of each name, per span. */
  scored: Map<string, ScoreRow[]>;
}) {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const rows = useMemo(() => visibleRows(tree, collapsed), [tree, collapsed]);
  const total = useMemo(() => tree.reduce((end, n) => Math.max(end, n.start_offset_ms + n.duration_ms), 0) || 1, [tree]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualRows({ count: rows.length, rowHeight: ROW_HEIGHT, scrollElement: () => scroller.current });
  const scrolledTo = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!selected || scrolledTo.current === selected) return;
    scrolledTo.current = selected;
    const index = rows.findIndex((row) => row.span_id === selected);
    if (index >= 0) virtual.scrollToIndex(index, { align: 'auto' });
  }, [selected, rows]);
  const toggle = (node: TreeNode) => {
    const next = new Set(collapsed);
    if (next.has(node.span_id)) next.delete(node.span_id);
    else next.add(node.span_id);
    setCollapsed(next);
  };
  return (
    <div class="waterfall" data-testid="waterfall">
      <div class="waterfall-head">
        <span class="wf-name">
          Span
          <button type="button" class="link-button" onClick={() => setCollapsed(new Set())}>
            expand all
          </button>
          <button type="button" class="link-button" onClick={() => setCollapsed(new Set(tree.filter((n) => n.depth >= 1 && n.subtree_spans > 1).map((n) => n.span_id)))}>
            collapse to turns
          </button>
        </span>
        <span class="wf-bars">
          <Ticks total={total} />
        </span>
      </div>
      <div class="waterfall-body" ref={scroller}>
        <div style={{ height: `${virtual.getTotalSize()}px`, position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const node = rows[item.index];
            const onPath = showCritical && critical.has(node.span_id);
            const left = (node.start_offset_ms / total) * 100;
            const width = Math.max((node.duration_ms / total) * 100, 0.15);
            const hasChildren = node.subtree_spans > 1;
            const label = labelAt(left, width);
            return (
              <div
                key={node.span_id + node.tree_order}
                class={`wf-row ${selected === node.span_id ? 'selected' : ''} ${node.status === 'ERROR' ? 'has-error' : ''} ${onPath ? 'critical' : ''}`}
                style={{ transform: `translateY(${item.start}px)`, height: `${ROW_HEIGHT}px` }}
                onClick={() => onSelect(node.span_id)}
                data-span-id={node.span_id}
                data-critical={onPath ? 'true' : undefined}
                role="row"
                aria-selected={selected === node.span_id}
              >
                <span class="wf-name" style={{ paddingLeft: `${node.depth * 14 + 4}px` }}>
                  {hasChildren ? (
                    <button
                      type="button"
                      class="caret"
                      aria-label={collapsed.has(node.span_id) ? 'Expand' : 'Collapse'}
                      onClick={(event) => {
                        event.stopPropagation();
                        toggle(node);
                      }}
                    >
                      {collapsed.has(node.span_id) ? <ChevronRight size={13} /> : <ChevronDown size={13} />}
                    </button>
                  ) : (
                    <span class="caret" />
                  )}
                  <SpanIcon type={node.span_type} />
                  <span class="wf-label" title={node.name}>
                    {node.name}
                  </span>
                  {node.status === 'ERROR' && <CircleAlert size={13} class="error-text" aria-label="error" />}
                  {(node.is_orphan || node.is_cycle) && <span class="tag" title={node.is_orphan ? 'its parent never arrived' : 'its parent chain looped; cut here'}>{node.is_orphan ? 'orphan' : 'cycle'}</span>}
                  {collapsed.has(node.span_id) && <span class="tag">+{node.subtree_spans - 1}</span>}
                  {(scored.get(node.span_id) ?? []).slice(0, 1).map((score) => (
                    <ScoreChip key={score.name} name={score.name} value={score.value} label={score.label} />
                  ))}
                  {(scored.get(node.span_id)?.length ?? 0) > 1 && (
                    <span class="tag score-more" title={(scored.get(node.span_id) ?? []).slice(1).map((s) => `${s.name}: ${f.scoreText(s.value, s.label)}`).join(', ')}>
                      +{(scored.get(node.span_id)?.length ?? 0) - 1}
                    </span>
                  )}
                  {node.input_tokens !== null && <span class="muted small">{f.tokens(node.input_tokens)}→{f.tokens(node.output_tokens)}</span>}
                </span>
                <span class="wf-bars">
                  <span class={`bar type-${node.span_type}`} style={{ left: `${left}%`, width: `${width}%` }} />
                  <span class={`bar-label ${label}`} style={label === 'after' ? { left: `${left + width}%` } : { right: `${100 - (label === 'inside' ? left + width : left)}%` }}>
                    {f.duration(node.duration_ms)}
                    {hasChildren && <span class="muted"> · self {f.duration(node.self_time_ms)}</span>}
                  </span>
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function Logs({ logs, spanId }: { logs: LogRow[]; spanId?: string }) {
  const [onlySpan, setOnlySpan] = useState(false);
  const shown = onlySpan && spanId ? logs.filter((log) => log.span_id === spanId) : logs;
  if (logs.length === 0) return <div class="state">No log records carry this trace's id.</div>;
  return (
    <div class="logs">
      <label class="small">
        <input type="checkbox" checked={onlySpan} onChange={() => setOnlySpan(!onlySpan)} /> only the selected span
      </label>
      <table class="log-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>Body</th>
            <th>Tokens</th>
            <th>Cost</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((log, i) => (
            <tr key={i} class={(log.severity_number ?? 0) >= 17 ? 'has-error' : ''}>
              <td class="nowrap">{f.time(log.time)}</td>
              <td>
                {log.event_name ?? log.severity_text ?? ''}
                {log.model && <div class="muted small">{log.model}</div>}
              </td>
              <td>
                <pre>{log.body ?? ''}</pre>
              </td>
              <td class="nowrap">{log.input_tokens !== null || log.output_tokens !== null ? `${f.tokens(log.input_tokens)} → ${f.tokens(log.output_tokens)}` : ''}</td>
              <td class="nowrap">{log.cost_usd !== null ? f.usd(log.cost_usd) : log.computed_cost_usd !== null ? `${f.usd(log.computed_cost_usd)} computed` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function TraceView() {
  const { params } = useRoute();
  const location = useLocation();
  const traceId = params.id;
  const turn = location.query.turn;
  const session = location.query.session;
  const [tab, setTab] = useState<'span' | 'logs'>('span');
  const [showCritical, setShowCritical] = useState(true);
  const [scoringRun, setScoringRun] = useState(false);
  const { data, error } = useLoad(`${traceId}/${turn}/${session}`, (signal) =>
    getJson<TraceAnswer>(`/api/traces/${traceId}`, { span: turn, session }, signal),
  );
  // The scores as the last score added left them (its answer carries them), until the trace reloads.
  const [added, setAdded] = useState<{ of?: TraceAnswer; scores: ScoreRow[]; summary: ScoreSummary[] }>({ scores: [], summary: [] });
  const current = added.of === data ? added : { scores: data?.scores ?? [], summary: data?.score_summary ?? [] };
  const onAdded = (answer: ScoresAnswer) => setAdded({ of: data, scores: answer.scores, summary: answer.score_summary });
  const critical = useMemo(() => new Set((data?.critical_path ?? []).map((step) => step.span_id)), [data]);
  const nodes = useMemo(() => new Map((data?.tree ?? []).map((node) => [node.span_id, node])), [data]);
  const bySpan = useMemo(() => {
    const spans = new Map<string, ScoreRow[]>();
    for (const score of current.scores) {
      const key = score.span_id ?? '';
      spans.set(key, [...(spans.get(key) ?? []), score]);
    }
    return spans;
  }, [current.scores]);
  const scored = useMemo(() => new Map([...bySpan.entries()].map(([span, scores]) => [span, latestPerName(scores)])), [bySpan]);
  if (error) return <Failure error={error} />;
  if (!data) return <Loading what="the trace" />;
  const { trace, tree, turns, logs } = data;
  const scoreNames = [...new Set(['relevance', ...current.summary.map((s) => s.name)])].sort();
  const selected = location.query.span ?? tree[0]?.span_id;
  const link = (changes: Record<string, string | undefined>) => {
    const query = new URLSearchParams(location.url.split('?')[1] ?? '');
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) query.delete(key);
      else query.set(key, value);
    }
    const search = query.toString();
    return `/traces/${traceId}${search ? `?${search}` : ''}`;
  };
  const neighbour = (id: string | null) => (id ? `/traces/${id}${session ? `?session=${encodeURIComponent(session)}` : ''}` : undefined);
  const turnRow = turns.find((t) => t.turn_span_id === turn);
  return (
    <div class="page trace-page">
      <div class="trace-header">
        <div class="title-line">
          <a class="icon-button" href={neighbour(trace.newer_trace_id)} aria-disabled={!trace.newer_trace_id} title="Newer trace" data-testid="newer">
            <ChevronLeft size={16} />
          </a>
          <a class="icon-button" href={neighbour(trace.older_trace_id)} aria-disabled={!trace.older_trace_id} title="Older trace" data-testid="older">
            <ChevronRight size={16} />
          </a>
          <h1>{trace.name ?? '(root not received)'}</h1>
          <StatusBadge status={trace.status} />
          <span class="muted small">
            trace <code>{trace.trace_id}</code> <CopyButton text={trace.trace_id} label="Copy trace id" />
          </span>
          <div class="spacer" />
          <a class="button" href={`/replay/${traceId}${turn ? `?turn=${turn}` : ''}`}>
            <Play size={15} /> Replay
          </a>
          <a class="button" href={`/diff?a=${traceId}${turn ? `&span_a=${turn}` : ''}`}>
            <GitCompare size={15} /> Diff with…
          </a>
          <SqlButton queries={data.sql} />
        </div>
        <div class="stats" data-testid="trace-stats">
          <Stat label="Start" value={f.time(trace.start_time)} />
          <Stat label="Duration" value={f.duration(trace.duration_ms)} />
          <Stat label="Spans" value={f.count(trace.span_count)} />
          <Stat label="Errors" value={<span class={trace.error_count ? 'error-text' : ''}>{trace.error_count}</span>} />
          <Stat label="LLM calls" value={trace.llm_call_count} />
          <Stat label="Tool calls" value={trace.tool_call_count} />
          <Stat label="In tokens" value={f.tokens(trace.input_tokens)} />
          <Stat label="Out tokens" value={f.tokens(trace.output_tokens)} />
          <Stat label="Reported cost" value={f.usd(trace.cost_usd)} title="Sum of cost_usd the client reported" />
          <Stat label="Computed cost" value={f.usd(trace.computed_cost_usd)} title="Tokens x model_prices, for calls that reported no cost" />
          {trace.service_name && <Stat label="Service" value={trace.service_name} />}
          {trace.agent_name && <Stat label="Agent" value={trace.agent_name} />}
          {trace.user_id && <Stat label="User" value={<span class="ellipsis">{trace.user_id}</span>} />}
          {trace.session_id && (
            <Stat label="Session" value={<a href={`/?session=${encodeURIComponent(trace.session_id)}`} class="ellipsis">{trace.session_id}</a>} title="All traces of this session" />
          )}
        </div>
        <div class="trace-scores" data-testid="trace-scores">
          <span class="stat-label">
            <Scale size={12} /> Scores
          </span>
          {current.summary.length === 0 && <span class="muted small">none yet</span>}
          {current.summary.map((s) => (
            <ScoreChip
              key={s.name}
              name={s.name}
              value={s.latest_value}
              label={s.latest_label}
              title={`latest of ${s.score_count} (run and spans) by ${s.latest_source ?? 'unknown'}${s.latest_scorer ? ` (${s.latest_scorer})` : ''}${s.avg_value !== null ? `; average ${f.scoreValue(s.avg_value)}` : ''}`}
            />
          ))}
          <button type="button" class="link-button" aria-expanded={scoringRun} onClick={() => setScoringRun(!scoringRun)}>
            {scoringRun ? 'close' : 'score the run'}
          </button>
        </div>
        {scoringRun && <ScoreBox traceId={traceId} scores={bySpan.get('') ?? []} names={scoreNames} onAdded={onAdded} />}
        {turns.length > 1 && (
          <div class="turns">
            <label>
              <span class="muted">Turn</span>
              <select aria-label="Turn" value={turn ?? ''} onChange={(event) => location.route(link({ turn: (event.target as HTMLSelectElement).value || undefined, span: undefined }))}>
                <option value="">Whole trace ({turns.length} turns)</option>
                {turns.map((t) => (
                  <option key={t.turn_span_id} value={t.turn_span_id}>
                    {t.turn}. {t.name} · {t.span_count} spans · {f.tokens(t.input_tokens)}→{f.tokens(t.output_tokens)} tokens{t.error_count ? ` · ${t.error_count} errors` : ''}
                  </option>
                ))}
              </select>
            </label>
            {turnRow && (
              <span class="muted small">
                turn {turnRow.turn}: {f.duration(turnRow.duration_ms)}, {f.usd(turnRow.cost_usd)} reported, {f.usd(turnRow.computed_cost_usd)} computed
              </span>
            )}
          </div>
        )}
      </div>
      <div class="trace-body">
        <div class="trace-left">
          <div class="legend small">
            <label>
              <input type="checkbox" checked={showCritical} onChange={() => setShowCritical(!showCritical)} /> <RouteIcon size={13} /> critical path ({critical.size} spans)
            </label>
            <span class="muted">{f.count(tree.length)} spans · bars at their real start offsets</span>
          </div>
          <Waterfall tree={tree} critical={critical} selected={selected} showCritical={showCritical} scored={scored} onSelect={(spanId) => location.route(link({ span: spanId }), true)} />
        </div>
        <div class="trace-right">
          <div class="tabs" role="tablist">
            <button type="button" role="tab" class={tab === 'span' ? 'on' : ''} aria-selected={tab === 'span'} onClick={() => setTab('span')}>
              Span
            </button>
            <button type="button" role="tab" class={tab === 'logs' ? 'on' : ''} aria-selected={tab === 'logs'} onClick={() => setTab('logs')}>
              Logs ({logs.length})
            </button>
          </div>
          {tab === 'span' && selected ? (
            <SpanPanel
              traceId={traceId}
              spanId={selected}
              node={nodes.get(selected)}
              scores={<ScoreBox key={selected} traceId={traceId} spanId={selected} scores={bySpan.get(selected) ?? []} names={scoreNames} onAdded={onAdded} />}
            />
          ) : null}
          {tab === 'logs' && <Logs logs={logs} spanId={selected} />}
        </div>
      </div>
    </div>
  );
}
