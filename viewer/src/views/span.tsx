// The span panel: one span in full (/api/traces/ID/spans/SPAN): LLM input and output as messages,
// a tool call with its arguments and result, tokens and both costs, its scores (with the form to add
// one), and its attributes, events, links and resource attributes, searchable and copyable.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { getJson, type SpanDetail, type TreeNode } from '../api';
import * as f from '../format';
import { CopyButton, Failure, Loading, SpanIcon, Stat, StatusBadge, useLoad } from '../ui';
import { MessageList, Recorded, messagesFromEvents, parseMessages, type Message } from './messages';

function KeyValues({ title, values, filter }: { title: string; values: Record<string, unknown>; filter: string }) {
  const entries = Object.entries(values ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const needle = filter.toLowerCase();
  const shown = needle ? entries.filter(([key, value]) => key.toLowerCase().includes(needle) || f.stringify(value).toLowerCase().includes(needle)) : entries;
  if (entries.length === 0) return null;
  return (
    <section class="kv">
      <div class="section-head">
        <h3>
          {title} <span class="muted small">{needle ? `${shown.length} of ${entries.length}` : entries.length}</span>
        </h3>
        <CopyButton text={JSON.stringify(values, null, 2)} label={`Copy ${title.toLowerCase()} as JSON`} />
      </div>
      <table>
        <tbody>
          {shown.map(([key, value]) => (
            <tr key={key}>
              <th>{key}</th>
              <td>
                <pre>{f.stringify(value)}</pre>
              </td>
              <td class="copy-cell">
                <CopyButton text={f.stringify(value)} label={`Copy ${key}`} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function toolMessages(span: SpanDetail): Message[] {
  const args = span.input === null ? null : parseJsonOr(span.input);
  const result = span.output === null ? null : parseJsonOr(span.output);
  const messages: Message[] = [];
  if (args !== null) messages.push({ role: 'tool call', parts: [{ kind: 'tool_call', name: span.tool_name ?? span.name, args }] });
  if (result !== null) messages.push({ role: 'tool result', parts: [{ kind: 'tool_result', content: result }] });
  return messages;
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function Conversation({ span }: { span: SpanDetail }) {
  if (span.span_type === 'tool') {
    const messages = toolMessages(span);
    return messages.length ? (
      <section class="recorded">
        <div class="section-head">
          <h3>Tool call</h3>
        </div>
        <MessageList messages={messages} />
      </section>
    ) : null;
  }
  const fromEvents = messagesFromEvents(span.events ?? []);
  const input = parseMessages(span.input, 'input') ?? (fromEvents.input.length ? fromEvents.input : null);
  const output = parseMessages(span.output, 'output') ?? (fromEvents.output.length ? fromEvents.output : null);
  return (
    <>
      <Recorded title="Input" text={span.input} messages={input} />
      <Recorded title="Output" text={span.output} messages={output} />
    </>
  );
}

export function SpanPanel({ traceId, spanId, node, scores }: { traceId: string; spanId: string; node?: TreeNode; scores?: ComponentChildren }) {
  const [filter, setFilter] = useState('');
  const { data, error } = useLoad(`${traceId}/${spanId}`, (signal) =>
    getJson<{ spans: SpanDetail[] }>(`/api/traces/${traceId}/spans/${spanId}`, {}, signal),
  );
  if (error) return <Failure error={error} />;
  if (!data) return <Loading what="the span" />;
  const span = data.spans[0];
  const events = Object.fromEntries((span.events ?? []).map((event, i) => [`${i + 1}. ${event.name} @ ${f.time(event.time)}`, event.attributes]));
  const links = Object.fromEntries((span.links ?? []).map((link, i) => [`${i + 1}. ${link.trace_id}/${link.span_id}`, link.attributes ?? {}]));
  return (
    <div class="span-panel" data-testid="span-panel">
      <div class="span-head">
        <SpanIcon type={span.span_type} size={18} />
        <h2>{span.name}</h2>
        <StatusBadge status={span.status_code} />
      </div>
      <div class="muted small id-line">
        span <code>{span.span_id}</code> <CopyButton text={span.span_id} label="Copy span id" /> · {span.span_type} · {span.span_kind}
        {span.service_name && <> · {span.service_name}</>}
      </div>
      {span.status_message && (
        <div class="error-box" role="alert">
          {span.status_message}
        </div>
      )}
      <div class="stats">
        <Stat label="Duration" value={f.duration(span.duration_ms)} />
        {node && <Stat label="Self time" value={f.duration(node.self_time_ms)} title="Time no child span covered" />}
        {span.model && <Stat label="Model" value={span.model} title={span.provider ?? undefined} />}
        <Stat label="In tokens" value={f.tokens(span.input_tokens)} />
        <Stat label="Out tokens" value={f.tokens(span.output_tokens)} />
        {span.cache_read_tokens !== null && <Stat label="Cache read" value={f.tokens(span.cache_read_tokens)} />}
        {span.cache_write_tokens !== null && <Stat label="Cache write" value={f.tokens(span.cache_write_tokens)} />}
        {span.reasoning_tokens !== null && <Stat label="Reasoning" value={f.tokens(span.reasoning_tokens)} />}
        <Stat label="Reported cost" value={f.usd(span.cost_usd)} title="cost_usd as the client sent it" />
        <Stat
          label="Computed cost"
          value={f.usd(span.computed_cost_usd)}
          title={span.price_model_pattern ? `priced as ${span.price_model_pattern} (${span.price_provider}), prices from ${span.price_effective_from}` : 'tokens x model_prices; none when the client reported a cost or no price matched'}
        />
      </div>
      {scores}
      <Conversation span={span} />
      <div class="kv-search">
        <input type="search" placeholder="Search attributes, events, resource" aria-label="Search attributes" value={filter} onInput={(event) => setFilter((event.target as HTMLInputElement).value)} />
      </div>
      <KeyValues title="Attributes" values={span.attributes} filter={filter} />
      <KeyValues title="Events" values={events} filter={filter} />
      <KeyValues title="Links" values={links} filter={filter} />
      <KeyValues title="Resource attributes" values={span.resource_attributes} filter={filter} />
    </div>
  );
}
