// Pieces every view uses: the SQL panel, copy buttons, span-type icons, the time-range picker,
// loading and error states.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import {
  Bot,
  Boxes,

  CircleAlert,
  Code,
  Copy,
  Database,
  FileSearch,
  GitBranch,
  ListOrdered,
  MessageSquare,
  Scale,
  Shield,
  Sparkles,
  Users,
  Webhook,
  Workflow,
  Wrench,
  Check,
  type LucideIcon,
} from 'lucide-preact';
import type { Shown } from './api';

export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API refused (plain http on another host): fall back to a selection.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="icon-button"
      title={label}
      aria-label={label}
      onClick={async (event) => {
        event.stopPropagation();
        await copyText(text);
        setDone(true);
        setTimeout(() => setDone(false), 1200);
      }}
    >
      {done ? <Check size={14} /> : <Copy size={14} />}
    </button>
  );
}

/** The statements behind a view, with its values, ready for psql or a BI tool. */
export function SqlButton({ queries }: { queries: Shown[] }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="button" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="sql-button">
        <Code size={15} /> SQL
      </button>
      {open && (
        <div class="sql-panel" role="dialog" aria-label="The SQL behind this view">
          <div class="sql-panel-head">
            <strong>The SQL behind this view</strong>
            <span class="muted">read-only, as the viewer ran it, with this view's values</span>
            <button type="button" class="button" onClick={() => setOpen(false)}>
              Close
            </button>
          </div>
          {queries.map((query) => (
            <section class="sql-query" key={query.name + query.sql}>
              <div class="sql-query-head">
                <code>sql/viewer/{query.name}.sql</code>
                <CopyButton text={query.sql + ';\n'} label="Copy SQL" />
              </div>
              <pre>{query.sql};</pre>
            </section>
          ))}
        </div>
      )}
    </>
  );
}

const TYPE_ICONS: Record<string, LucideIcon> = {
  agent: Bot,
  llm: Sparkles,
  tool: Wrench,
  retriever: FileSearch,
  embedding: Database,
  reranker: ListOrdered,
  chain: GitBranch,
  workflow: Workflow,
  guardrail: Shield,
  evaluator: Scale,
  prompt: MessageSquare,
  hook: Webhook,
  team: Users,
  other: Boxes,
};

export function SpanIcon({ type, size = 14 }: { type: string; size?: number }) {
  const Icon = TYPE_ICONS[type] ?? Boxes;
  return (
    <span class={`span-icon type-${type}`} title={type}>
      <Icon size={size} />
    </span>
  );
}


export function StatusBadge({ status }: { status: string | null | undefined }) {
  const value = status ?? 'UNSET';
  return (
    <span class={`status status-${value.toLowerCase()}`}>
      {value === 'ERROR' && <CircleAlert size={12} />} {value}
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return <div class="state">Loading {what}…</div>;
}

export function Failure({ error }: { error: unknown }) {
  return (
    <div class="state error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </div>
  );
}

export function Stat({ label, value, title }: { label: string; value: ComponentChildren; title?: string }) {
  return (
    <div class="stat" title={title}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
    </div>
  );
}

/** Time ranges: presets relative to now, all time, or a custom from/to (deep-linkable). */
export const RANGE_PRESETS: [string, string, number | null][] = [
  ['15m', 'Last 15 minutes', 15 * 60_000],
  ['1h', 'Last hour', 3_600_000],
  ['6h', 'Last 6 hours', 6 * 3_600_000],
  ['24h', 'Last 24 hours', 24 * 3_600_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
  ['30d', 'Last 30 days', 30 * 86_400_000],
  ['all', 'All time', null],
];

export interface RangeValue {
  range: string;
  from?: string;
  to?: string;
}

/** The API's from/to for a range; presets are resolved against now when the view loads. */
export function resolveRange(value: RangeValue): { from?: string; to?: string } {
  if (value.range === 'custom') return { from: value.from, to: value.to };
  const preset = RANGE_PRESETS.find(([key]) => key === value.range);
  if (!preset || preset[2] === null) return {};
  return { from: new Date(Date.now() - preset[2]).toISOString() };
}

function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function RangePicker({ value, onChange }: { value: RangeValue; onChange: (value: RangeValue) => void }) {
  return (
    <div class="range">
      <select
        aria-label="Time range"
        value={value.range}
        onChange={(event) => {
          const range = (event.target as HTMLSelectElement).value;
          onChange(range === 'custom' ? { range, from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date().toISOString() } : { range });
        }}
      >
        {RANGE_PRESETS.map(([key, label]) => (
          <option value={key} key={key}>
            {label}
          </option>
        ))}
        <option value="custom">Custom range…</option>
      </select>
      {value.range === 'custom' && (
        <>
          <input
            type="datetime-local"
            aria-label="From"
            value={toLocalInput(value.from)}
            onChange={(event) => onChange({ ...value, from: new Date((event.target as HTMLInputElement).value).toISOString() })}
          />
          <span class="muted">to</span>
          <input
            type="datetime-local"
            aria-label="To"
            value={toLocalInput(value.to)}
            onChange={(event) => onChange({ ...value, to: new Date((event.target as HTMLInputElement).value).toISOString() })}
          />
        </>
      )}
    </div>
  );
}

/** Loads whenever `key` changes; a newer load cancels the one in flight. */
export function useLoad<T>(key: string, load: (signal: AbortSignal) => Promise<T>): { data?: T; error?: unknown; loading: boolean } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean; key?: string }>({ loading: true });
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    load(controller.signal).then(
      (data) => setState({ data, loading: false, key }),
      (error) => {
        if (!controller.signal.aborted) setState({ error, loading: false, key });
      },
    );
    return () => controller.abort();
  }, [key]);
  return state;
}
