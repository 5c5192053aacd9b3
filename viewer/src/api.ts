// The viewer's JSON API (/api/..., docs/viewer.md "The viewer's JSON API"). Every answer carries `sql`:
// the statements behind it, with this request's values, as psql runs them.

export type Num = number | null;

export interface Shown {
  name: string;
  sql: string;
}

export interface TraceRow {
  trace_id: string;
  name: string | null;
  status: 'OK' | 'ERROR';
  start_time: string;
  duration_ms: number;
  span_count: number;
  error_count: number;
  llm_call_count: number;
  tool_call_count: number;
  input_tokens: Num;
  output_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
  service_name: string | null;
  agent_name: string | null;
  user_id: string | null;
  session_id: string | null;
  input_preview: string | null;
  output_preview: string | null;
  sort_key?: number;
  /** The latest score of each name (of the run or its spans); null without any. */
  scores: LatestScore[] | null;
}

/** A score as the list shows it: the latest of its name. */
export interface LatestScore {
  name: string;
  value: Num;
  label: string | null;
}

/** One score as given (trace_scores.sql): of the run (span_id null) or of one span. */
export interface ScoreRow {
  span_id: string | null;
  name: string;
  value: Num;
  label: string | null;
  explanation: string | null;
  source: string | null;
  scorer: string | null;
  scored_at: string;
  score_key: string;
}

/** A trace's scores per name (agent_trace_scores). */
export interface ScoreSummary {
  name: string;
  latest_value: Num;
  latest_label: string | null;
  latest_source: string | null;
  latest_scorer: string | null;
  latest_scored_at: string;
  score_count: number;
  avg_value: Num;
}

/** Two runs' scores of one name (diff_scores.sql). */
export interface DiffScore {
  name: string;
  value_a: Num;
  label_a: string | null;
  count_a: number | null;
  avg_a: Num;
  value_b: Num;
  label_b: string | null;
  count_b: number | null;
  avg_b: Num;
  value_delta: Num;
}

/** What POST /api/traces/ID/scores takes. */
export interface NewScore {
  name: string;
  value?: number;
  label?: string;
  explanation?: string;
  span_id?: string;
}

/** What it answers: the score stored, and the trace's scores now. */
export interface ScoresAnswer {
  score: { score_key: string; trace_id: string; span_id: string | null; project: string };
  scores: ScoreRow[];
  score_summary: ScoreSummary[];
}

export interface ScoreName {
  name: string;
  scores: number;
  value_count: number;
  label_count: number;
}

export interface ScoreValueBucket {
  bucket: string;
  scores: number;
  value_count: number;
  avg_value: Num;
  min_value: Num;
  max_value: Num;
}

export interface ScoreLabelBucket {
  bucket: string;
  label: string;
  scores: number;
}

export interface TraceDetail extends TraceRow {
  end_time: string;
  cache_read_tokens: Num;
  cache_write_tokens: Num;
  reasoning_tokens: Num;
  agent_id: string | null;
  run_id: string | null;
  root_span_id: string | null;
  input: string | null;
  output: string | null;
  older_trace_id: string | null;
  newer_trace_id: string | null;
}

export interface TreeNode {
  tree_order: number;
  depth: number;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  span_type: string;
  status: string;
  model: string | null;
  start_offset_ms: number;
  duration_ms: number;
  self_time_ms: number;
  input_tokens: Num;
  output_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
  subtree_spans: number;
  subtree_input_tokens: Num;
  subtree_output_tokens: Num;
  subtree_cost_usd: Num;
  subtree_computed_cost_usd: Num;
  subtree_errors: number;
  is_orphan: boolean;
  is_cycle: boolean;
}

export interface Turn {
  turn: number;
  turn_span_id: string;
  name: string;
  span_type: string;
  status: string;
  start_time: string;
  duration_ms: number;
  span_count: number;
  input_tokens: Num;
  output_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
  error_count: number;
}

export interface LogRow {
  time: string;
  span_id: string | null;
  event_name: string | null;
  severity_text: string | null;
  severity_number: number | null;
  body: string | null;
  service_name: string | null;
  model: string | null;
  input_tokens: Num;
  output_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
  tool_name: string | null;
  duration_ms: Num;
  attributes: Record<string, unknown>;
}

export interface SpanDetail {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  start_time: string;
  end_time: string;
  duration_ms: number;
  name: string;
  span_kind: string;
  span_type: string;
  status_code: string;
  status_message: string | null;
  service_name: string | null;
  scope_name: string | null;
  scope_version: string | null;
  model: string | null;
  provider: string | null;
  input_tokens: Num;
  output_tokens: Num;
  cache_read_tokens: Num;
  cache_write_tokens: Num;
  reasoning_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
  price_model_pattern: string | null;
  price_provider: string | null;
  price_effective_from: string | null;
  tool_name: string | null;
  agent_name: string | null;
  session_id: string | null;
  user_id: string | null;
  input: string | null;
  output: string | null;
  attributes: Record<string, unknown>;
  resource_attributes: Record<string, unknown>;
  events: { name: string; time: string; attributes: Record<string, unknown> }[];
  links: { trace_id: string; span_id: string; attributes?: Record<string, unknown> }[];
}

export interface DiffRow {
  step: number;
  depth: number;
  path: string;
  change: 'same' | 'changed' | 'added' | 'removed';
  span_type: string;
  name: string;
  span_id_a: string | null;
  span_id_b: string | null;
  status_a: string | null;
  status_b: string | null;
  model_a: string | null;
  model_b: string | null;
  start_offset_ms_a: Num;
  start_offset_ms_b: Num;
  duration_ms_a: Num;
  duration_ms_b: Num;
  duration_delta_ms: Num;
  tokens_a: Num;
  tokens_b: Num;
  tokens_delta: Num;
  cost_usd_a: Num;
  cost_usd_b: Num;
  computed_cost_usd_a: Num;
  computed_cost_usd_b: Num;
  input_differs: boolean | null;
  output_differs: boolean | null;
}

export type DiffSummary = Record<string, number | string | null>;

export interface ReplayStep {
  step: number;
  start_offset_ms: number;
  depth: number;
  span_type: string;
  name: string;
  model: string | null;
  tool_name: string | null;
  status: string;
  error: string | null;
  input_tokens: Num;
  output_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
  span_id: string;
  input_preview?: string | null;
  input_length?: number | null;
  output_preview?: string | null;
  output_length?: number | null;
  input?: string | null;
  output?: string | null;
  tool_arguments?: string | null;
  tool_result?: string | null;
}

export interface SessionRow {
  session_id: string;
  tool: string | null;
  user_id: string | null;
  first_activity: string;
  last_activity: string;
  prompts: number;
  traces: number;
  model_calls: number;
  tool_calls: number;
  errors: number;
  input_tokens: Num;
  output_tokens: Num;
  cache_read_tokens: Num;
  cache_write_tokens: Num;
  reasoning_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
}

export interface Facet {
  facet: 'project' | 'service' | 'agent' | 'user' | 'session' | 'model' | 'score' | 'score_label';
  value: string;
  traces: number;
}

export interface TokenBucket {
  bucket: string;
  model: string;
  tool: string;
  token_type: string;
  tokens: number;
}

export interface CallBucket {
  bucket: string;
  tool: string;
  model: string;
  calls: number;
  input_tokens: Num;
  output_tokens: Num;
  cost_usd: Num;
  computed_cost_usd: Num;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Params = Record<string, string | number | null | undefined>;

export function apiUrl(path: string, params: Params = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export async function getJson<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T & { sql: Shown[] }> {
  const response = await fetch(apiUrl(path, params), { signal, headers: { accept: 'application/json' } });
  return answer<T>(response, signal);
}

/** POSTs a JSON body (the one write the viewer makes: a score). */
export async function postJson<T>(path: string, body: unknown): Promise<T & { sql: Shown[] }> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return answer<T>(response);
}

async function answer<T>(response: Response, signal?: AbortSignal): Promise<T & { sql: Shown[] }> {
  if (response.status === 401) {
    // The cookie went away (logged out elsewhere, or the server's token changed).
    window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, 'log in first');
  }
  let body;
  try {
    body = await response.json();
  } catch (error) {
    // Aborted while the body arrived (the view changed), or a 200 that is not JSON: nothing to
    // show, so no caller may take it for data.
    if (signal?.aborted || response.ok) throw error;
    body = { error: response.statusText };
  }
  if (!response.ok) throw new ApiError(response.status, body.error ?? response.statusText);
  return body;
}
