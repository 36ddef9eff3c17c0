import { barChart } from '../dashboard/charts';
import { escapeHtml, html, raw } from './html';

describe('html', () => {
  it('escapes every interpolated value, in text and in quoted attributes', () => {
    const hostile = `<script>alert("x")</script>' onmouseover='x' &amp;`;
    const out = html`<p title="${hostile}">${hostile}</p>`.text;
    expect(out).toBe(`<p title="${escapeHtml(hostile)}">${escapeHtml(hostile)}</p>`);
    expect(out).not.toMatch(/<script|"x"|'x'/);
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('nests html and raw as they are, flattens lists, and drops null, undefined and booleans', () => {
    const items = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${raw('<hr>')}${0}`.text).toBe('<ul><li>a&lt;b</li><li>c</li></ul><hr>0');
  });

  it('charts: a row per label, segments scaled to the largest total, labels escaped', () => {
    const svg = barChart('Calls', [
      { label: '<svg onload=x>', segments: [{ key: 'ok', value: 3 }, { key: 'errors', value: 1 }] },
      { label: 'b', segments: [{ key: 'ok', value: 2 }] },
    ]).text;
    expect(svg.match(/class="bar-row"/g)).toHaveLength(2);
    expect(svg).not.toContain('<svg onload');
    expect(svg).toContain('&lt;svg onload=x&gt;');
    // 4 is the largest total: 3 of 4 and 2 of 4 of the bar width.
    const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[0] / (widths[0] + widths[1])).toBeCloseTo(0.75);
    expect(widths[2] / (widths[0] + widths[1])).toBeCloseTo(0.5);
    expect(barChart('Nothing', []).text).toContain('Nothing to chart yet');
  });
});
