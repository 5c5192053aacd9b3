// How numbers, times and costs read on screen. Values are formatted here only; every total and
// cost comes computed from PostgreSQL.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function tokens(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : integer.format(value);
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : integer.format(value);
}

/** Dollars: four significant digits under a cent ($0.000762), cents above. */
export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  if (abs === 0) return '$0';
  if (abs < 0.01) return `${sign}$${Number(abs.toPrecision(4)).toString()}`;
  return `${sign}$${abs.toFixed(abs < 100 ? 4 : 2).replace(/0+$/, '').replace(/\.$/, '')}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1) return `${sign}${abs.toFixed(3)} ms`;
  if (abs < 1000) return `${sign}${Number(abs.toPrecision(3))} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(2)} s`;
  const minutes = Math.floor(abs / 60_000);
  if (minutes < 60) return `${sign}${minutes}m ${Math.round((abs % 60_000) / 1000)}s`;
  return `${sign}${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** A signed difference, with + for growth. */
export function delta(value: number | null | undefined, as: (v: number) => string = count): string {
  if (value === null || value === undefined) return '–';
  if (value === 0) return '±0';
  return value > 0 ? `+${as(value)}` : `-${as(-value)}`;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** Local time as 2026-11-21 23:47:54.444: sortable, and the same in every locale. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '–';
}

/** JSON text pretty-printed when it parses, else the text itself. */
export function prettyJson(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    try {
      const value = JSON.parse(trimmed);
      return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    } catch {
      return text;
    }
  }
  return text;
}

export function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** A score's value, in at most three significant digits (0.3, 0.833, 12). */
export function scoreValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/** What a score says, compactly: its label, else its value. */
export function scoreText(value: number | null | undefined, label: string | null | undefined): string {
  return label ? label : scoreValue(value);
}
