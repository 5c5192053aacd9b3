// LLM input and output as messages by role, whatever dialect recorded them: OpenAI chat requests
// and responses, Anthropic content blocks, Gemini contents, the GenAI conventions' message parts
// and their older per-message span events, or plain text. Tool calls show as name(arguments),
// tool results as their content. Only presentation: the stored text is shown as it is under Raw.
import { useState } from 'preact/hooks';
import { CopyButton } from '../ui';
import { prettyJson, stringify } from '../format';

export type Part =
  | { kind: 'text'; text: string }
  | { kind: 'tool_call'; name: string; args: unknown; id?: string }
  | { kind: 'tool_result'; content: unknown; id?: string; name?: string }
  | { kind: 'data'; value: unknown };

export interface Message {
  role: string;
  parts: Part[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!/^[[{"]/.test(trimmed)) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** Arguments are often JSON inside a string: show them as JSON. */
function unwrap(value: unknown): unknown {
  if (typeof value === 'string') {
    const parsed = parseJson(value);
    return parsed === undefined ? value : parsed;
  }
  return value;
}

function toolCalls(calls: unknown): Part[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((call) => {
    const c = isObject(call) ? call : {};
    const fn = isObject(c.function) ? c.function : c;
    return { kind: 'tool_call', name: String(fn.name ?? 'tool'), args: unwrap(fn.arguments ?? fn.args ?? fn.input), id: c.id as string | undefined };
  });
}

function contentParts(content: unknown): Part[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return [{ kind: 'text', text: content }];
  if (Array.isArray(content)) return content.flatMap(blockParts);
  return [{ kind: 'data', value: content }];
}

/** One content block of any dialect. */
function blockParts(block: unknown): Part[] {
  if (typeof block === 'string') return [{ kind: 'text', text: block }];
  if (!isObject(block)) return [{ kind: 'data', value: block }];
  const type = block.type as string | undefined;
  if (type === 'text' || type === 'input_text' || type === 'output_text') return [{ kind: 'text', text: String(block.text ?? block.content ?? '') }];
  if (type === 'tool_call' || type === 'tool_use' || type === 'function_call')
    return [{ kind: 'tool_call', name: String(block.name ?? 'tool'), args: unwrap(block.arguments ?? block.input), id: (block.id ?? block.call_id) as string | undefined }];
  if (type === 'tool_call_response' || type === 'tool_result' || type === 'function_call_output')
    return [{ kind: 'tool_result', content: unwrap(block.response ?? block.content ?? block.output), id: (block.id ?? block.tool_use_id ?? block.call_id) as string | undefined }];
  if (typeof block.text === 'string') return [{ kind: 'text', text: block.text }];
  if (isObject(block.functionCall)) return [{ kind: 'tool_call', name: String(block.functionCall.name), args: block.functionCall.args }];
  if (isObject(block.functionResponse))
    return [{ kind: 'tool_result', name: String(block.functionResponse.name), content: block.functionResponse.response }];
  return [{ kind: 'data', value: block }];
}

function message(raw: unknown, defaultRole: string): Message {
  if (!isObject(raw)) return { role: defaultRole, parts: contentParts(raw) };
  const role = String(raw.role ?? defaultRole);
  const parts = [...contentParts(raw.content ?? raw.parts), ...toolCalls(raw.tool_calls)];
  if (role === 'tool' && parts.length && parts.every((p) => p.kind === 'text'))
    return { role, parts: [{ kind: 'tool_result', content: unwrap((parts[0] as { text: string }).text), id: raw.tool_call_id as string | undefined }] };
  return { role, parts };
}

/** Messages in a span's recorded input or output; null when the text is not a known shape. */
export function parseMessages(text: string | null, side: 'input' | 'output'): Message[] | null {
  if (text === null || text === '') return null;
  const value = parseJson(text);
  const fallbackRole = side === 'input' ? 'user' : 'assistant';
  if (value === undefined) return [{ role: fallbackRole, parts: [{ kind: 'text', text }] }];
  if (typeof value === 'string') return [{ role: side === 'input' ? 'input' : 'output', parts: [{ kind: 'text', text: value }] }];
  if (Array.isArray(value)) {
    if (value.every((item) => isObject(item) && ('role' in item || 'parts' in item))) return value.map((item) => message(item, fallbackRole));
    return null;
  }
  if (!isObject(value)) return null;
  if (Array.isArray(value.messages)) {
    const system = typeof value.system === 'string' ? [{ role: 'system', parts: [{ kind: 'text', text: value.system } as Part] }] : [];
    return [...system, ...value.messages.map((item) => message(item, fallbackRole))];
  }
  if (Array.isArray(value.contents)) return value.contents.map((item) => message(item, fallbackRole));
  if (Array.isArray(value.choices))
    return value.choices.map((choice) => message(isObject(choice) ? (choice.message ?? choice.delta ?? choice) : choice, 'assistant'));
  if (Array.isArray(value.candidates))
    return value.candidates.map((candidate) => message(isObject(candidate) ? candidate.content : candidate, 'assistant'));
  if ('role' in value || ('content' in value && Array.isArray(value.content))) return [message(value, fallbackRole)];
  return null;
}

const EVENT_ROLES: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
  'gen_ai.choice': 'assistant',
};

/** The older GenAI conventions record each message as a span event. */
export function messagesFromEvents(events: { name: string; attributes: Record<string, unknown> }[]): { input: Message[]; output: Message[] } {
  const input: Message[] = [];
  const output: Message[] = [];
  for (const event of events) {
    const role = EVENT_ROLES[event.name];
    if (!role) continue;
    const a = event.attributes ?? {};
    const body = isObject(a.message) ? a.message : a;
    const parts = [...contentParts(unwrap(body.content)), ...toolCalls(unwrap(body.tool_calls))];
    const m = role === 'tool' ? { role, parts: [{ kind: 'tool_result', content: unwrap(body.content), id: body.id as string | undefined } as Part] } : { role, parts };
    (event.name === 'gen_ai.choice' ? output : input).push(m);
  }
  return { input, output };
}

function PartView({ part }: { part: Part }) {
  switch (part.kind) {
    case 'text':
      return <pre class="message-text">{part.text}</pre>;
    case 'tool_call':
      return (
        <div class="tool-call">
          <code class="tool-call-name">{part.name}</code>
          <span class="muted">(</span>
          <pre class="json">{stringify(part.args)}</pre>
          <span class="muted">)</span>
          {part.id && <span class="muted small"> id {part.id}</span>}
        </div>
      );
    case 'tool_result':
      return (
        <div class="tool-result">
          <span class="muted small">result{part.name ? ` of ${part.name}` : ''}{part.id ? ` (${part.id})` : ''}</span>
          <pre class="json">{typeof part.content === 'string' ? prettyJson(part.content) : stringify(part.content)}</pre>
        </div>
      );
    default:
      return <pre class="json">{stringify(part.value)}</pre>;
  }
}

function messageText(m: Message): string {
  return m.parts
    .map((p) => (p.kind === 'text' ? p.text : p.kind === 'tool_call' ? `${p.name}(${stringify(p.args)})` : p.kind === 'tool_result' ? stringify(p.content) : stringify(p.value)))
    .join('\n');
}

export function MessageList({ messages }: { messages: Message[] }) {
  return (
    <div class="messages">
      {messages.map((m, index) => (
        <div class={`message role-${m.role.toLowerCase()}`} key={index} data-role={m.role}>
          <div class="message-head">
            <span class="role">{m.role}</span>
            <CopyButton text={messageText(m)} label="Copy message" />
          </div>
          {m.parts.length ? m.parts.map((part, i) => <PartView part={part} key={i} />) : <span class="muted small">(empty)</span>}
        </div>
      ))}
    </div>
  );
}

/** A recorded input or output: messages when they parse, and the text as stored under Raw. */
export function Recorded({ title, text, messages }: { title: string; text: string | null; messages: Message[] | null }) {
  const [raw, setRaw] = useState(false);
  if (!text && !messages?.length) return null;
  return (
    <section class="recorded">
      <div class="section-head">
        <h3>{title}</h3>
        <div class="segmented">
          <button type="button" class={!raw ? 'on' : ''} onClick={() => setRaw(false)} disabled={!messages}>
            Messages
          </button>
          <button type="button" class={raw ? 'on' : ''} onClick={() => setRaw(true)} disabled={!text}>
            Raw
          </button>
        </div>
        {text && <CopyButton text={text} label={`Copy ${title.toLowerCase()}`} />}
      </div>
      {!raw && messages ? <MessageList messages={messages} /> : <pre class="json">{text ? prettyJson(text) : ''}</pre>}
    </section>
  );
}
