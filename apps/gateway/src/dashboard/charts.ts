import { html, type Html } from '../http/html';

export interface Segment {
  /** The legend name of the segment (a status, a reason). */
  key: string;
  value: number;
}

export interface BarRow {
  label: string;
  segments: Segment[];
  /** Shown after the bar; the total when not given. */
  note?: string;
}

/** Colours per segment key; anything else gets the neutral one. */
export const PALETTE: Record<string, string> = {
  connected: '#2f9e44',
  pending: '#adb5bd',
  revoked: '#e03131',
  ok: '#1c7ed6',
  errors: '#e03131',
  user: '#868e96',
  service_edited: '#f08c00',
  refresh_failed: '#e03131',
  verification_failed: '#9c36b5',
  delivered: '#2f9e44',
  failed: '#e03131',
  cancelled: '#adb5bd',
};
const NEUTRAL = '#495057';

const ROW = 22;
const LABEL_WIDTH = 150;
const BAR_WIDTH = 360;
const NOTE_WIDTH = 110;

/**
 * Horizontal bars, one row per label, each split into coloured segments, scaled to the largest total: server-rendered
 * SVG, so the page needs no script. Every row has a `<title>` with its numbers, for a tooltip and for screen readers.
 */
export function barChart(title: string, rows: BarRow[]): Html {
  if (rows.length === 0) return html`<p class="empty">Nothing to chart yet.</p>`;
  const max = Math.max(1, ...rows.map((r) => total(r)));
  const height = rows.length * ROW + 4;
  const keys = [...new Set(rows.flatMap((r) => r.segments.filter((s) => s.value > 0).map((s) => s.key)))];
  return html`<figure class="chart">
<svg role="img" aria-label="${title}" width="${LABEL_WIDTH + BAR_WIDTH + NOTE_WIDTH}" height="${height}" viewBox="0 0 ${LABEL_WIDTH + BAR_WIDTH + NOTE_WIDTH} ${height}">
${rows.map((row, i) => {
  const y = i * ROW + 2;
  let x = LABEL_WIDTH;
  const bars = row.segments
    .filter((s) => s.value > 0)
    .map((s) => {
      const width = Math.max(1, (s.value / max) * BAR_WIDTH);
      const rect = html`<rect x="${x.toFixed(1)}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW - 6}" fill="${PALETTE[s.key] ?? NEUTRAL}"><title>${row.label}: ${s.value} ${s.key}</title></rect>`;
      x += width;
      return rect;
    });
  return html`<g class="bar-row" data-label="${row.label}"><text x="${LABEL_WIDTH - 6}" y="${y + ROW / 2 + 4}" text-anchor="end">${truncate(row.label, 22)}</text>${bars}<text x="${x + 6}" y="${y + ROW / 2 + 4}" class="note">${row.note ?? String(total(row))}</text></g>`;
})}
</svg>
<figcaption>${title}${keys.length > 1 || (keys.length === 1 && keys[0] in PALETTE) ? html` · ${keys.map((k) => html`<span class="key"><i style="background:${PALETTE[k] ?? NEUTRAL}"></i>${k}</span>`)}` : ''}</figcaption>
</figure>`;
}

function total(row: BarRow): number {
  return row.segments.reduce((sum, s) => sum + s.value, 0);
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
