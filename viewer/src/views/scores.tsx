// Scores on a run and its spans: chips that say them compactly ("relevance 0.3", thumbs as icons), a
// span's (or the run's) scores as given, and the form a person adds one with: thumbs up or down in
// one click, or a name with a value and/or a label; a comment goes with either. The score is
// POSTed to /api/traces/ID/scores, which stores it through the ingest's writer (source human).
import { useState } from 'preact/hooks';
import { ThumbsDown, ThumbsUp } from 'lucide-preact';
import { postJson, type NewScore, type ScoresAnswer, type ScoreRow } from '../api';
import * as f from '../format';

/** A score, compactly: its name and its label (thumbs drawn as icons), else its value. `bare`
 * leaves the name out, where a column names it. */
export function ScoreChip({ name, value, label, title, bare }: { name: string; value: number | null; label: string | null; title?: string; bare?: boolean }) {
  const tone = label === 'thumbs_down' ? 'bad' : label === 'thumbs_up' ? 'good' : '';
  const said = label === 'thumbs_up' ? <ThumbsUp size={11} aria-label="thumbs up" /> : label === 'thumbs_down' ? <ThumbsDown size={11} aria-label="thumbs down" /> : f.scoreText(value, label);
  return (
    <span
      class={`score-chip ${tone}`}
      title={title ?? `${name}: ${label ?? ''}${label && value !== null ? ' · ' : ''}${value !== null ? f.scoreValue(value) : ''}`}
      data-score={name}
      data-label={label ?? undefined}
      data-value={value ?? undefined}
    >
      {!bare && <span class="score-name">{name} </span>}
      <strong>{said}</strong>
    </span>
  );
}

/** The latest score of each name, from scores newest first (as trace_scores.sql gives them). */
export function latestPerName(scores: ScoreRow[]): ScoreRow[] {
  const seen = new Set<string>();
  return scores.filter((score) => !seen.has(score.name) && seen.add(score.name));
}

function ScoreList({ scores }: { scores: ScoreRow[] }) {
  if (scores.length === 0) return <div class="muted small">No scores yet.</div>;
  return (
    <ul class="score-list" data-testid="score-list">
      {scores.map((score) => (
        <li key={score.score_key}>
          <ScoreChip name={score.name} value={score.value} label={score.label} />
          {score.label && score.value !== null && <span class="muted small"> {f.scoreValue(score.value)}</span>}
          <span class="muted small">
            {' '}
            · {score.source ?? 'unknown source'}
            {score.scorer ? ` (${score.scorer})` : ''} · {f.time(score.scored_at)}
          </span>
          {score.explanation && <div class="score-explanation">{score.explanation}</div>}
        </li>
      ))}
    </ul>
  );
}

/** A span's (or, with spanId undefined, the run's) scores and the form to add one. */
export function ScoreBox({
  traceId,
  spanId,
  scores,
  names,
  onAdded,
}: {
  traceId: string;
  spanId?: string;
  scores: ScoreRow[];
  names: string[];
  onAdded: (answer: ScoresAnswer) => void;
}) {
  const [comment, setComment] = useState('');
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async (score: NewScore) => {
    setBusy(true);
    setError(null);
    try {
      const body: NewScore = { ...score, span_id: spanId, explanation: comment.trim() || undefined };
      onAdded(await postJson<ScoresAnswer>(`/api/traces/${traceId}/scores`, body));
      setComment('');
      setName('');
      setValue('');
      setLabel('');
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  const custom = () => {
    const number = value.trim() === '' ? undefined : Number(value);
    if (number !== undefined && !Number.isFinite(number)) {
      setError('the value is not a number');
      return;
    }
    send({ name: name.trim(), value: number, label: label.trim() || undefined });
  };
  const target = spanId ? 'span' : 'run';
  return (
    <section class="scores" data-testid={spanId ? 'span-scores' : 'run-scores'}>
      <div class="section-head">
        <h3>
          Scores <span class="muted small">{scores.length}</span>
        </h3>
      </div>
      <ScoreList scores={scores} />
      <form
        class="score-form"
        aria-label={`Score this ${target}`}
        onSubmit={(event) => {
          event.preventDefault();
          custom();
        }}
      >
        <div class="score-quick">
          <span class="muted small">Score this {target}:</span>
          <button type="button" class="button" disabled={busy} title="Thumbs up" aria-label="Thumbs up" onClick={() => send({ name: 'thumbs', value: 1, label: 'thumbs_up' })}>
            <ThumbsUp size={15} />
          </button>
          <button type="button" class="button" disabled={busy} title="Thumbs down" aria-label="Thumbs down" onClick={() => send({ name: 'thumbs', value: 0, label: 'thumbs_down' })}>
            <ThumbsDown size={15} />
          </button>
          <span class="muted small">or a score of your own: a name with a value, a label or both</span>
        </div>
        <div class="score-custom">
          <input list="score-names" aria-label="Score name" placeholder="name, e.g. relevance" value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} />
          <input type="number" step="any" aria-label="Score value" placeholder="value" value={value} onInput={(event) => setValue((event.target as HTMLInputElement).value)} />
          <input aria-label="Score label" placeholder="label" value={label} onInput={(event) => setLabel((event.target as HTMLInputElement).value)} />
          <button type="submit" class="button" disabled={busy || !name.trim() || (!value.trim() && !label.trim())}>
            Add
          </button>
          <datalist id="score-names">
            {names.map((known) => (
              <option key={known} value={known} />
            ))}
          </datalist>
        </div>
        <textarea aria-label="Comment" placeholder="Comment (optional): why this score" rows={2} value={comment} onInput={(event) => setComment((event.target as HTMLTextAreaElement).value)} />
        {error && (
          <div class="error-box" role="alert">
            {error}
          </div>
        )}
      </form>
    </section>
  );
}
