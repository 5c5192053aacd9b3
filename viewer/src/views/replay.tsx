// A run step by step in time order (replay): the list of steps, and the selected one in full
// (its whole input and output, tool arguments and result); ← and → step through it. The
// replay_json document downloads as it is.
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { ChevronLeft, ChevronRight, Download } from 'lucide-preact';
import { getJson, apiUrl, type ReplayStep, type SpanDetail, type TraceDetail } from '../api';
import * as f from '../format';
import { Failure, Loading, SpanIcon, SqlButton, StatusBadge, useLoad } from '../ui';
import { useVirtualRows } from '../virtual';
import { MessageList, Recorded, messagesFromEvents, parseMessages, type Message } from './messages';

const ROW_HEIGHT = 34;

function parsed(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An LLM call that kept its messages as span events (the older GenAI conventions), not as input/output. */
function EventMessages({ traceId, spanId }: { traceId: string; spanId: string }) {
  const { data } = useLoad(`${traceId}/${spanId}/events`, (signal) => getJson<{ spans: SpanDetail[] }>(`/api/traces/${traceId}/spans/${spanId}`, {}, signal));
  const messages = data ? messagesFromEvents(data.spans[0]?.events ?? []) : null;
  if (!messages) return null;
  if (!messages.input.length && !messages.output.length) return <div class="muted">This step recorded no input or output.</div>;
  return (
    <>
      <Recorded title="Input (from span events)" text={null} messages={messages.input} />
      <Recorded title="Output (from span events)" text={null} messages={messages.output} />
    </>
  );
}

function StepDetail({ traceId, turn, step }: { traceId: string; turn?: string; step: number }) {
  const { data, error } = useLoad(`${traceId}/${turn}/${step}`, (signal) =>
    getJson<{ step: ReplayStep }>(`/api/traces/${traceId}/replay/${step}`, { span: turn }, signal),
  );
  if (error) return <Failure error={error} />;
  if (!data) return <Loading what={`step ${step}`} />;
  const s = data.step;
  let body;
  if (s.span_type === 'tool') {
    const messages: Message[] = [];
    if (s.tool_arguments !== null && s.tool_arguments !== undefined) messages.push({ role: 'tool call', parts: [{ kind: 'tool_call', name: s.tool_name ?? s.name, args: parsed(s.tool_arguments) }] });
    if (s.tool_result !== null && s.tool_result !== undefined) messages.push({ role: 'tool result', parts: [{ kind: 'tool_result', content: parsed(s.tool_result) }] });
    body = messages.length ? <MessageList messages={messages} /> : <div class="muted">This tool step recorded no arguments or result.</div>;
  } else {
    body = (
      <>
        <Recorded title="Input" text={s.input ?? null} messages={parseMessages(s.input ?? null, 'input')} />
        <Recorded title="Output" text={s.output ?? null} messages={parseMessages(s.output ?? null, 'output')} />
        {!s.input && !s.output && <EventMessages traceId={traceId} spanId={s.span_id} />}
      </>
    );
  }
  return (
    <div class="step-detail" data-testid="step-detail">
      <div class="span-head">
        <SpanIcon type={s.span_type} size={18} />
        <h2>
          {s.step}. {s.name}
        </h2>
        <StatusBadge status={s.status} />
      </div>
      <div class="muted small">
        +{f.duration(s.start_offset_ms)} · {s.span_type}
        {s.model && <> · {s.model}</>}
        {s.input_tokens !== null && <> · {f.tokens(s.input_tokens)} → {f.tokens(s.output_tokens)} tokens</>}
        {s.cost_usd !== null && <> · {f.usd(s.cost_usd)} reported</>}
        {s.computed_cost_usd !== null && <> · {f.usd(s.computed_cost_usd)} computed</>}
        {' · '}
        <a href={`/traces/${traceId}?span=${s.span_id}`}>in the waterfall</a>
      </div>
      {s.error && (
        <div class="error-box" role="alert">
          {s.error}
        </div>
      )}
      {body}
    </div>
  );
}

export function ReplayView() {
  const { params } = useRoute();
  const location = useLocation();
  const traceId = params.id;
  const turn = location.query.turn;
  const { data, error } = useLoad(`${traceId}/${turn}`, (signal) =>
    getJson<{ trace: TraceDetail; steps: ReplayStep[] }>(`/api/traces/${traceId}/replay`, { span: turn }, signal),
  );
  const steps = data?.steps ?? [];
  const current = Number(location.query.step ?? 1);
  const index = useMemo(() => steps.findIndex((s) => s.step === current), [steps, current]);
  const go = (step: number) => {
    const query = new URLSearchParams(location.url.split('?')[1] ?? '');
    query.set('step', String(step));
    location.route(`/replay/${traceId}?${query}`, true);
  };
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualRows({ count: steps.length, rowHeight: ROW_HEIGHT, scrollElement: () => scroller.current });
  useEffect(() => {
    if (index >= 0) virtual.scrollToIndex(index, { align: 'auto' });
  }, [index]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.target as HTMLElement).closest('input, textarea, select')) return;
      if (event.key === 'ArrowRight' || event.key === 'j') go(Math.min(current + 1, steps.length));
      if (event.key === 'ArrowLeft' || event.key === 'k') go(Math.max(current - 1, 1));
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [current, steps.length]);
  if (error) return <Failure error={error} />;
  if (!data) return <Loading what="the replay" />;
  return (
    <div class="page replay-page">
      <div class="toolbar">
        <h1>
          Replay: <a href={`/traces/${traceId}${turn ? `?turn=${turn}` : ''}`}>{data.trace.name ?? traceId}</a>
        </h1>
        <span class="muted small">{steps.length} steps in time order</span>
        <div class="spacer" />
        <button type="button" class="button" onClick={() => go(Math.max(current - 1, 1))} disabled={current <= 1} aria-label="Previous step">
          <ChevronLeft size={15} /> Prev
        </button>
        <span class="small" data-testid="step-counter">
          {current} / {steps.length}
        </span>
        <button type="button" class="button" onClick={() => go(Math.min(current + 1, steps.length))} disabled={current >= steps.length} aria-label="Next step">
          Next <ChevronRight size={15} />
        </button>
        <a class="button primary" href={apiUrl(`/api/traces/${traceId}/replay.json`, { span: turn })} download data-testid="download-replay">
          <Download size={15} /> replay_json
        </a>
        <SqlButton queries={data.sql} />
      </div>
      <div class="replay-body">
        <div class="step-list" ref={scroller}>
          <div style={{ height: `${virtual.getTotalSize()}px`, position: 'relative' }}>
            {virtual.getVirtualItems().map((item) => {
              const s = steps[item.index];
              return (
                <button
                  type="button"
                  key={s.step}
                  class={`step-row ${s.step === current ? 'selected' : ''} ${s.status === 'ERROR' ? 'has-error' : ''}`}
                  style={{ transform: `translateY(${item.start}px)`, height: `${ROW_HEIGHT}px`, paddingLeft: `${8 + Math.min(s.depth, 12) * 10}px` }}
                  onClick={() => go(s.step)}
                  data-step={s.step}
                >
                  <span class="step-no">{s.step}</span>
                  <SpanIcon type={s.span_type} />
                  <span class="step-name">{s.name}</span>
                  <span class="muted small">+{f.duration(s.start_offset_ms)}</span>
                </button>
              );
            })}
          </div>
        </div>
        <div class="step-pane">{steps.length > 0 && <StepDetail traceId={traceId} turn={turn} step={current} />}</div>
      </div>
    </div>
  );
}
