// The trace list: agent_traces in a time range, filtered (by scores too) and sorted by the server
// (keyset pages, loaded as the list scrolls), virtualized, each with its latest score of each name,
// and live: /api/live says when the latest traces changed and the first page is read again.
import type { InputHTMLAttributes } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ArrowDown, ArrowUp, GitCompare, Radio } from 'lucide-preact';
import { getJson, type Facet, type Shown, type TraceRow } from '../api';
import * as f from '../format';
import { Failure, RangePicker, SqlButton, StatusBadge, resolveRange, type RangeValue } from '../ui';
import { useVirtualRows } from '../virtual';
import { ScoreChip } from './scores';

const PAGE = 100;
const ROW_HEIGHT = 38;
const FILTERS = ['project', 'service', 'agent', 'user', 'session', 'model'] as const;
/** The score filter: a score's name, the least and greatest value, and its label. */
const SCORE_FILTERS = ['score', 'score_min', 'score_max', 'score_label'] as const;

type SortKey = 'start' | 'duration' | 'spans' | 'errors' | 'input_tokens' | 'output_tokens' | 'cost' | 'computed_cost';

interface Column {
  title: string;
  sort?: SortKey;
  class: string;
  cell: (row: TraceRow) => preact.ComponentChildren;
}

const COLUMNS: Column[] = [
  { title: 'Name', class: 'c-name', cell: (r) => <span class="name-cell"><StatusBadge status={r.status} /> <span class="trace-name">{r.name ?? '(root not received)'}</span><span class="muted small">{r.service_name}</span></span> },
  { title: 'Start', sort: 'start', class: 'c-time', cell: (r) => f.time(r.start_time) },
  { title: 'Duration', sort: 'duration', class: 'c-num', cell: (r) => f.duration(r.duration_ms) },
  { title: 'Spans', sort: 'spans', class: 'c-num', cell: (r) => f.count(r.span_count) },
  { title: 'Errors', sort: 'errors', class: 'c-num', cell: (r) => (r.error_count ? <span class="error-text">{r.error_count}</span> : '0') },
  { title: 'In tokens', sort: 'input_tokens', class: 'c-num', cell: (r) => f.tokens(r.input_tokens) },
  { title: 'Out tokens', sort: 'output_tokens', class: 'c-num', cell: (r) => f.tokens(r.output_tokens) },
  { title: 'Reported cost', sort: 'cost', class: 'c-num', cell: (r) => f.usd(r.cost_usd) },
  { title: 'Computed cost', sort: 'computed_cost', class: 'c-num', cell: (r) => f.usd(r.computed_cost_usd) },
  { title: 'Input', class: 'c-preview', cell: (r) => <span class="preview">{r.input_preview ?? ''}</span> },
];

/** The scores column: each trace's latest score of each name, the one filtered by first. */
function scoresColumn(first: string | undefined): Column {
  const rank = (name: string) => (name === first ? 0 : 1);
  return {
    title: 'Scores',
    class: 'c-scores',
    cell: (r) => (
      <span class="score-cell">
        {[...(r.scores ?? [])]
          .sort((a, b) => rank(a.name) - rank(b.name))
          .map((s) => (
            <ScoreChip key={s.name} name={s.name} value={s.value} label={s.label} />
          ))}
      </span>
    ),
  };
}

/**
 * A filter field: what is typed stays the field's own until it is committed (a change: Enter, or
 * leaving the field), so that the list redrawing meanwhile (a page loading, a live update) does not
 * wipe it; it follows the URL when that changes.
 */
function FilterInput({ value, onCommit, ...rest }: { value: string | undefined; onCommit: (value: string | undefined) => void } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'onInput'>) {
  const [draft, setDraft] = useState(value ?? '');
  useEffect(() => setDraft(value ?? ''), [value]);
  return (
    <input
      {...rest}
      value={draft}
      onInput={(event) => setDraft((event.target as HTMLInputElement).value)}
      onChange={(event) => onCommit((event.target as HTMLInputElement).value || undefined)}
    />
  );
}

interface ListState {
  rows: TraceRow[];
  done: boolean;
  loading: boolean;
  error?: unknown;
  sql: Shown[];
  fresh: Set<string>;
}

export function TraceList() {
  const location = useLocation();
  const query = location.query;
  const range: RangeValue = { range: query.range ?? 'all', from: query.from, to: query.to };
  const sort = (query.sort as SortKey) ?? 'start';
  const order = query.order === 'asc' ? 'asc' : 'desc';
  const [text, setText] = useState(query.q ?? '');
  const [selected, setSelected] = useState<string[]>([]);
  const [state, setState] = useState<ListState>({ rows: [], done: false, loading: true, sql: [], fresh: new Set() });
  const [facets, setFacets] = useState<Facet[]>([]);
  const [live, setLive] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const loadingMore = useRef(false);

  // The filter part of the URL decides what is listed; the time window is fixed when it changes.
  const filterKey = JSON.stringify([range, sort, order, FILTERS.map((k) => query[k]), SCORE_FILTERS.map((k) => query[k]), query.status, query.q]);
  const timeWindow = useMemo(() => resolveRange(range), [filterKey]);
  const params = {
    ...timeWindow,
    project: query.project,
    service: query.service,
    agent: query.agent,
    user: query.user,
    session: query.session,
    model: query.model,
    status: query.status,
    q: query.q,
    score: query.score,
    score_min: query.score_min,
    score_max: query.score_max,
    score_label: query.score_label,
    sort,
    order,
    limit: PAGE,
  };

  const setQuery = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(location.url.split('?')[1] ?? '');
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined || value === '') next.delete(key);
      else next.set(key, value);
    }
    const search = next.toString();
    location.route(search ? `/?${search}` : '/', true);
  };

  // First page, whenever the filters change.
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    getJson<{ traces: TraceRow[] }>('/api/traces', params, controller.signal).then(
      (answer) => {
        setState({ rows: answer.traces, done: answer.traces.length < PAGE, loading: false, sql: answer.sql, fresh: new Set() });
        scroller.current?.scrollTo({ top: 0 });
      },
      (error) => !controller.signal.aborted && setState((s) => ({ ...s, loading: false, error })),
    );
    return () => controller.abort();
  }, [filterKey]);

  // Choices for the filter fields, for the time range.
  useEffect(() => {
    const controller = new AbortController();
    getJson<{ facets: Facet[] }>('/api/facets', timeWindow, controller.signal).then(
      (answer) => setFacets(answer.facets),
      () => {},
    );
    return () => controller.abort();
  }, [JSON.stringify(timeWindow)]);

  // The search box applies after a pause in typing.
  useEffect(() => {
    if (text === (query.q ?? '')) return;
    const timer = setTimeout(() => setQuery({ q: text || undefined }), 300);
    return () => clearTimeout(timer);
  }, [text]);

  const loadMore = async () => {
    if (loadingMore.current || state.done || state.loading || state.rows.length === 0) return;
    loadingMore.current = true;
    const last = state.rows[state.rows.length - 1];
    const after = sort === 'start' && order === 'desc' ? last.start_time : String(last.sort_key);
    try {
      const answer = await getJson<{ traces: TraceRow[] }>('/api/traces', { ...params, after, after_id: last.trace_id });
      setState((s) => ({ ...s, rows: [...s.rows, ...answer.traces], done: answer.traces.length < PAGE }));
    } catch (error) {
      setState((s) => ({ ...s, error }));
    } finally {
      loadingMore.current = false;
    }
  };

  // Live: when the latest traces change, read the first page again and merge it in.
  const liveParams = useRef(params);
  liveParams.current = params;
  const liveOrder = sort === 'start' && order === 'desc';
  useEffect(() => {
    if (!liveOrder) return;
    const source = new EventSource('/api/live');
    source.addEventListener('open', () => setLive(true));
    source.addEventListener('error', () => setLive(false));
    // Every head is read against what is shown, the first one too: a trace stored between loading
    // the list and the stream's first poll is in that first head, and nothing would follow it.
    source.addEventListener('head', async () => {
      try {
        const answer = await getJson<{ traces: TraceRow[] }>('/api/traces', liveParams.current);
        setState((s) => {
          const known = new Map(s.rows.map((row) => [row.trace_id, row]));
          const fresh = new Set(s.fresh);
          const top = answer.traces.map((row) => {
            if (!known.has(row.trace_id)) fresh.add(row.trace_id);
            return row;
          });
          const topIds = new Set(top.map((row) => row.trace_id));
          return { ...s, rows: [...top, ...s.rows.filter((row) => !topIds.has(row.trace_id))], fresh };
        });
      } catch {
        // The next change tries again.
      }
    });
    return () => source.close();
  }, [liveOrder, filterKey]);

  const virtual = useVirtualRows({ count: state.rows.length, rowHeight: ROW_HEIGHT, scrollElement: () => scroller.current });
  const items = virtual.getVirtualItems();
  const lastVisible = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (lastVisible >= state.rows.length - 20) loadMore();
  }, [lastVisible, state.rows.length, state.done]);

  const options = (facet: Facet['facet']) => facets.filter((row) => row.facet === facet);
  const columns = useMemo(() => [...COLUMNS.slice(0, -1), scoresColumn(query.score), ...COLUMNS.slice(-1)], [query.score]);
  const toggleSort = (key: SortKey) => {
    if (sort === key) setQuery({ order: order === 'desc' ? 'asc' : undefined, sort: key === 'start' ? undefined : key });
    else setQuery({ sort: key === 'start' ? undefined : key, order: undefined });
  };
  const toggleSelected = (id: string) =>
    setSelected((current) => (current.includes(id) ? current.filter((x) => x !== id) : [...current.slice(-1), id]));

  return (
    <div class="page list-page">
      <div class="toolbar">
        <h1>Traces</h1>
        <RangePicker
          value={range}
          onChange={(value) => setQuery({ range: value.range === 'all' ? undefined : value.range, from: value.from, to: value.to })}
        />
        <input
          class="search"
          type="search"
          placeholder="Search name, input, output"
          aria-label="Search name, input and output"
          value={text}
          onInput={(event) => setText((event.target as HTMLInputElement).value)}
        />
        <select aria-label="Status" value={query.status ?? ''} onChange={(event) => setQuery({ status: (event.target as HTMLSelectElement).value || undefined })}>
          <option value="">Any status</option>
          <option value="OK">OK</option>
          <option value="ERROR">Error</option>
        </select>
        <div class="spacer" />
        {liveOrder && (
          <span class={`live ${live ? 'on' : ''}`} title="New traces appear as they arrive" data-testid="live">
            <Radio size={14} /> {live ? 'Live' : 'Connecting'}
          </span>
        )}
        <a
          class={`button ${selected.length === 2 ? 'primary' : 'disabled'}`}
          href={selected.length === 2 ? `/diff?a=${selected[0]}&b=${selected[1]}` : undefined}
          title="Tick two traces to compare them"
          data-testid="compare"
        >
          <GitCompare size={15} /> Compare {selected.length}/2
        </a>
        <SqlButton queries={[...state.sql]} />
      </div>
      <div class="filters">
        {FILTERS.map((key) => (
          <label key={key} class="filter">
            <span>{key}</span>
            <FilterInput list={`facet-${key}`} value={query[key]} placeholder="any" aria-label={`Filter by ${key}`} onCommit={(value) => setQuery({ [key]: value })} />
            <datalist id={`facet-${key}`}>
              {options(key).map((row) => (
                <option key={row.value} value={row.value}>
                  {row.traces} traces
                </option>
              ))}
            </datalist>
          </label>
        ))}
        <fieldset class="filter score-filter" aria-label="Filter by score">
          <span>score</span>
          <FilterInput
            list="facet-score"
            value={query.score}
            placeholder="name"
            aria-label="Filter by score name"
            onCommit={(value) => setQuery({ score: value })}
          />
          <FilterInput
            type="number"
            step="any"
            class="score-bound"
            value={query.score_min}
            placeholder="≥ min"
            aria-label="Score at least"
            disabled={!query.score}
            onCommit={(value) => setQuery({ score_min: value })}
          />
          <FilterInput
            type="number"
            step="any"
            class="score-bound"
            value={query.score_max}
            placeholder="≤ max"
            aria-label="Score at most"
            disabled={!query.score}
            onCommit={(value) => setQuery({ score_max: value })}
          />
          <FilterInput
            list="facet-score_label"
            class="score-bound"
            value={query.score_label}
            placeholder="label"
            aria-label="Score label"
            disabled={!query.score}
            onCommit={(value) => setQuery({ score_label: value })}
          />
          {(['score', 'score_label'] as const).map((facet) => (
            <datalist id={`facet-${facet}`} key={facet}>
              {options(facet).map((row) => (
                <option key={row.value} value={row.value}>
                  {row.traces} traces
                </option>
              ))}
            </datalist>
          ))}
        </fieldset>
        {(FILTERS.some((k) => query[k]) || SCORE_FILTERS.some((k) => query[k]) || query.status || query.q) && (
          <button type="button" class="link-button" onClick={() => { setText(''); setQuery(Object.fromEntries([...FILTERS, ...SCORE_FILTERS, 'status', 'q'].map((k) => [k, undefined]))); }}>
            Clear filters
          </button>
        )}
      </div>
      <div class="table trace-table" role="table" aria-label="Traces">
        <div class="thead" role="row">
          <span class="c-select" />
          {columns.map((column) => (
            <span
              key={column.title}
              role="columnheader"
              class={`${column.class} ${column.sort ? 'sortable' : ''} ${column.sort === sort ? 'sorted' : ''}`}
              onClick={column.sort ? () => toggleSort(column.sort as SortKey) : undefined}
              aria-sort={column.sort === sort ? (order === 'asc' ? 'ascending' : 'descending') : undefined}
            >
              {column.title}
              {column.sort === sort && (order === 'asc' ? <ArrowUp size={12} /> : <ArrowDown size={12} />)}
            </span>
          ))}
        </div>
        <div class="tbody" ref={scroller}>
          {state.error !== undefined && <Failure error={state.error} />}
          {!state.loading && state.rows.length === 0 && !state.error && <div class="state">No traces match. Widen the time range or clear the filters.</div>}
          <div style={{ height: `${virtual.getTotalSize()}px`, position: 'relative' }}>
            {items.map((item) => {
              const row = state.rows[item.index];
              return (
                <a
                  key={row.trace_id}
                  href={`/traces/${row.trace_id}`}
                  class={`tr ${state.fresh.has(row.trace_id) ? 'fresh' : ''} ${row.status === 'ERROR' ? 'has-error' : ''}`}
                  role="row"
                  data-trace-id={row.trace_id}
                  style={{ transform: `translateY(${item.start}px)`, height: `${ROW_HEIGHT}px` }}
                >
                  <span class="c-select" onClick={(event) => { event.preventDefault(); event.stopPropagation(); toggleSelected(row.trace_id); }}>
                    <input type="checkbox" aria-label="Select for comparison" checked={selected.includes(row.trace_id)} readOnly />
                  </span>
                  {columns.map((column) => (
                    <span key={column.title} class={column.class} role="cell">
                      {column.cell(row)}
                    </span>
                  ))}
                </a>
              );
            })}
          </div>
        </div>
        <div class="tfoot muted">
          {f.count(state.rows.length)} traces loaded{state.done ? '' : ', more as you scroll'}
          {state.loading && ' · loading…'}
        </div>
      </div>
    </div>
  );
}
