import type { Role } from '@plugboard/contracts';
import { barChart, type BarRow } from './charts';
import { EXPIRING_WITHIN_MINUTES, INVOCATION_WINDOW_HOURS, type DashboardData, type LoggedEvent } from './dashboard.queries';
import { html, raw, type Html } from '../http/html';

/** Who looks at the page: an operator who signed in, or a program with an API key. */
export interface Viewer {
  orgId: string;
  role: Role;
  name: string;
  via: 'sign-in' | 'api-key';
}

const STYLE = raw(`<style>
:root{--fg:#1f2933;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--ok:#2f9e44;--bad:#e03131;--warn:#f08c00}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;align-items:center;gap:1rem;padding:.8rem 1.5rem;background:#111827;color:#fff}
header h1{font-size:1.1rem;margin:0;font-weight:600}header .who{margin-left:auto;color:#d1d5db}
header form{margin:0}header button{background:none;border:1px solid #6b7280;color:#fff;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
main{padding:1rem 1.5rem;display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:1rem}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;min-width:0}
section.wide{grid-column:1/-1}h2{font-size:1rem;margin:0 0 .6rem}
.tiles{display:flex;flex-wrap:wrap;gap:.8rem}.tile{flex:1 1 9rem;border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem}
.tile b{display:block;font-size:1.6rem;line-height:1.2}.tile span{color:var(--muted);font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:500}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:999px;padding:0 .5rem;font-size:.8rem;background:#e9ecef}
.badge.connected{background:#d3f9d8;color:#2b8a3e}.badge.revoked,.badge.expired,.badge.overdue{background:#ffe3e3;color:#c92a2a}.badge.soon,.badge.pending{background:#fff3bf;color:#8f5b00}
.chart{margin:.2rem 0 .8rem}.chart svg{max-width:100%;height:auto;font-size:12px}.chart svg text{fill:var(--fg)}.chart svg text.note{fill:var(--muted)}
figcaption{color:var(--muted);font-size:.85rem}.key{margin-left:.6rem}.key i{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.25rem;vertical-align:-1px}
pre.json{margin:0;white-space:pre-wrap;word-break:break-all;font:12px/1.4 ui-monospace,Menlo,monospace;color:#374151;max-height:6rem;overflow:auto}
time{white-space:nowrap}.empty{color:var(--muted);font-style:italic}a{color:#1c64b8}.error-rate.high{color:var(--bad);font-weight:600}
.login{max-width:28rem;margin:5rem auto;background:#fff;border:1px solid var(--line);border-radius:8px;padding:1.5rem 2rem}
.login a.button{display:inline-block;background:#111827;color:#fff;padding:.5rem 1rem;border-radius:6px;text-decoration:none}
</style>`);

function layout(title: string, body: Html, header: Html | string = ''): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · Plugboard</title>${STYLE}</head><body>${header}${body}</body></html>`.text;
}

const when = (value: string): Html => (value ? html`<time datetime="${value}">${value.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : html``);
const percent = (rate: number) => `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 1 : 0)} %`;

/** "in 12 min", "3 h ago": how far `at` is from `now`. */
function relative(at: string, now: string): string {
  const minutes = Math.round((Date.parse(at) - Date.parse(now)) / 60_000);
  const size = Math.abs(minutes) >= 120 ? `${Math.round(Math.abs(minutes) / 60)} h` : `${Math.abs(minutes)} min`;
  return minutes >= 0 ? `in ${size}` : `${size} ago`;
}

function json(data: unknown): Html {
  return html`<pre class="json">${JSON.stringify(data)}</pre>`;
}

function eventRows(events: LoggedEvent[], withStream: boolean): Html {
  if (events.length === 0) return html`<p class="empty">No events.</p>`;
  return html`<table><thead><tr><th class="num">#</th><th>type</th>${withStream ? html`<th>stream</th>` : html`<th class="num">version</th>`}<th>time</th><th>data</th></tr></thead><tbody>
${events.map(
  (e) =>
    html`<tr data-event-type="${e.type}"><td class="num">${e.position}</td><td>${e.type}</td>${withStream ? html`<td>${e.streamId}</td>` : html`<td class="num">${e.version}</td>`}<td>${when(e.recordedAt)}</td><td>${json(e.data)}</td></tr>`,
)}
</tbody></table>`;
}

function counts<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const map = new Map<string, number>();
  for (const item of items) map.set(key(item), (map.get(key(item)) ?? 0) + 1);
  return map;
}

const STATUSES = ['connected', 'pending', 'revoked'] as const;

/** The dashboard: every panel from one snapshot of the org's read models and log. */
export function dashboardPage(data: DashboardData, viewer: Viewer): string {
  const byStatus = counts(data.connections, (c) => c.status);
  const services = [...new Set(data.connections.map((c) => c.service))].sort();
  const serviceRows: BarRow[] = services.map((service) => {
    const of = data.connections.filter((c) => c.service === service);
    return { label: service, segments: STATUSES.map((s) => ({ key: s, value: of.filter((c) => c.status === s).length })) };
  });
  const calls = data.invocations.reduce((n, i) => n + i.calls, 0);
  const errors = data.invocations.reduce((n, i) => n + i.errors, 0);
  const reasons = counts(data.revocations, (r) => r.reason);
  const expired = data.expiring.filter((e) => e.state !== 'soon').length;

  const header = html`<header><h1>Plugboard · ${data.orgId}</h1><span class="who" data-viewer-role="${viewer.role}">${viewer.name} · ${viewer.role}${viewer.via === 'api-key' ? ' (API key)' : ''}</span>
${viewer.via === 'sign-in' ? html`<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>` : ''}</header>`;

  const body = html`<main>
<section class="wide" id="summary"><h2>Overview</h2><div class="tiles">
${tile('connections', data.connections.length, 'connections')}
${STATUSES.map((s) => tile(s, byStatus.get(s) ?? 0, s))}
${tile('calls', calls, `calls in ${INVOCATION_WINDOW_HOURS} h`)}
${tile('error-rate', calls ? percent(errors / calls) : '–', 'error rate')}
${tile('expiring', data.expiring.filter((e) => e.state === 'soon').length, `expiring within ${EXPIRING_WITHIN_MINUTES} min`)}
${tile('overdue', expired, 'overdue or expired')}
</div></section>

<section id="connections"><h2>Connections by status and service</h2>
${barChart('Connections by status', STATUSES.map((s) => ({ label: s, segments: [{ key: s, value: byStatus.get(s) ?? 0 }] })))}
${barChart('Connections per service', serviceRows)}
${
  data.connections.length === 0
    ? html`<p class="empty">No connections yet.</p>`
    : html`<table><thead><tr><th>connection</th><th>service</th><th>auth</th><th>status</th><th></th></tr></thead><tbody>
${data.connections.map(
  (c) =>
    html`<tr data-connection="${c.linkName}"><td>${c.name} <small>(${c.linkName})</small>${c.internal ? html` <span class="badge">internal</span>` : ''}</td><td>${c.service}</td><td>${c.authType}</td>
<td><span class="badge ${c.status}">${c.status}</span>${c.revokedReason ? html` <small class="reason">${c.revokedReason}</small>` : ''}</td><td><a href="/dashboard?connection=${encodeURIComponent(c.linkName)}#timeline">timeline</a></td></tr>`,
)}
</tbody></table>`
}
</section>

<section id="invocations"><h2>Invocations per connection (last ${INVOCATION_WINDOW_HOURS} h)</h2>
${barChart(
  'Calls, errors in red',
  data.invocations.map((i) => ({ label: i.connection, segments: [{ key: 'ok', value: i.calls - i.errors }, { key: 'errors', value: i.errors }], note: `${i.calls} · ${percent(i.errorRate)}` })),
)}
${
  data.invocations.length === 0
    ? ''
    : html`<table><thead><tr><th>connection</th><th class="num">calls</th><th class="num">errors</th><th class="num">error rate</th><th class="num">p50</th><th class="num">p95</th><th>last call</th></tr></thead><tbody>
${data.invocations.map(
  (i) =>
    html`<tr data-invocations="${i.connection}"><td>${i.connection}</td><td class="num calls">${i.calls}</td><td class="num errors">${i.errors}</td><td class="num error-rate${i.errorRate >= 0.2 ? ' high' : ''}">${percent(i.errorRate)}</td><td class="num">${i.p50Ms} ms</td><td class="num">${i.p95Ms} ms</td><td>${when(i.lastAt)}</td></tr>`,
)}
</tbody></table>`
}
</section>

<section id="expiring"><h2>Credentials expiring soon and overdue</h2>
<p>${data.scheduledCredentials} OAuth 2 credential${data.scheduledCredentials === 1 ? '' : 's'} on the refresh schedule; listed: those expiring within ${EXPIRING_WITHIN_MINUTES} minutes, overdue for refresh, or expired.</p>
${
  data.expiring.length === 0
    ? html`<p class="empty">None.</p>`
    : html`<table><thead><tr><th>connection</th><th>user</th><th>state</th><th>expires</th><th>refresh due</th><th class="num">attempts</th><th>last error</th></tr></thead><tbody>
${data.expiring.map(
  (e) =>
    html`<tr data-expiring="${e.linkName}"><td>${e.linkName}</td><td>${e.userId ?? '—'}</td><td><span class="badge ${e.state}">${e.state}</span></td><td title="${e.expiresAt}">${relative(e.expiresAt, data.generatedAt)}</td><td title="${e.dueAt}">${relative(e.dueAt, data.generatedAt)}</td><td class="num">${e.attempts}</td><td>${e.lastError ?? ''}</td></tr>`,
)}
</tbody></table>`
}
</section>

<section id="degraded"><h2>Degraded connections</h2>
${
  data.degraded.length === 0
    ? html`<p class="empty">No connection is degraded.</p>`
    : html`<table><thead><tr><th>connection</th><th>service</th><th>refusals in a row</th><th>last error</th><th>last used</th></tr></thead><tbody>
${data.degraded.map(
  (d) =>
    html`<tr data-degraded="${d.linkName}"><td><a href="/dashboard?connection=${encodeURIComponent(d.linkName)}#timeline">${d.linkName}</a></td><td>${d.service}</td><td class="num">${d.consecutiveFailures}</td><td>${d.lastError ?? ''}</td><td>${d.lastUsedAt ? when(d.lastUsedAt) : '—'}</td></tr>`,
)}
</tbody></table>`
}
</section>

<section id="refresh-failures"><h2>Refresh failures</h2>
${
  data.refreshFailures.length === 0
    ? html`<p class="empty">No refresh has failed.</p>`
    : html`<table><thead><tr><th>connection</th><th>user</th><th>error</th><th>outcome</th><th>time</th></tr></thead><tbody>
${data.refreshFailures.map(
  (f) =>
    html`<tr data-refresh-failure="${f.linkName}"><td>${f.linkName}</td><td>${f.userId ?? '—'}</td><td>${f.error}</td><td>${f.definitive ? html`<span class="badge revoked">revoked (refresh_failed)</span>` : 'retried later'}</td><td>${when(f.at)}</td></tr>`,
)}
</tbody></table>`
}
</section>

<section id="revocations"><h2>Recent revocations</h2>
${barChart('Revocations by reason', [...reasons].map(([reason, n]) => ({ label: reason, segments: [{ key: reason, value: n }] })))}
${
  data.revocations.length === 0
    ? ''
    : html`<table><thead><tr><th>connection</th><th>user</th><th>reason</th><th>by</th><th>time</th></tr></thead><tbody>
${data.revocations.map(
  (r) =>
    html`<tr data-revocation="${r.linkName}"><td><a href="/dashboard?connection=${encodeURIComponent(r.linkName)}#timeline">${r.linkName}</a></td><td>${r.userId ?? '—'}</td><td class="reason">${r.reason}</td><td>${r.by}</td><td>${when(r.at)}</td></tr>`,
)}
</tbody></table>`
}
</section>

${
  data.timeline
    ? html`<section class="wide" id="timeline"><h2>Timeline of ${data.timeline.linkName}</h2>
<ol class="timeline">${data.timeline.events.map((e) => html`<li data-event-type="${e.type}"><b>${e.type}</b> · ${when(e.recordedAt)}</li>`)}</ol>
${eventRows(data.timeline.events, false)}</section>`
    : ''
}

${
  data.webhookDeliveries
    ? html`<section id="webhooks"><h2>Webhook deliveries</h2>
${
  data.webhookDeliveries.recent.length === 0
    ? html`<p class="empty">No deliveries (an org admin registers a webhook with PUT /v1/webhook).</p>`
    : html`${barChart('Deliveries by status', Object.entries(data.webhookDeliveries.byStatus).map(([status, n]) => ({ label: status, segments: [{ key: status, value: n }] })))}<table><thead><tr><th>event</th><th>status</th><th class="num">attempts</th><th class="num">last HTTP</th><th>last error</th><th>time</th></tr></thead><tbody>
${data.webhookDeliveries.recent.map((d) => html`<tr><td>${d.eventType}</td><td>${d.status}</td><td class="num">${d.attempts}</td><td class="num">${d.lastStatus ?? ''}</td><td>${d.lastError ?? ''}</td><td>${when(d.at)}</td></tr>`)}
</tbody></table>`
}</section>`
    : ''
}

<section class="wide" id="events"><h2>Event log (latest ${data.events.length})</h2>${eventRows(data.events, true)}</section>
</main>`;
  return layout('Dashboard', body, header);
}

function tile(id: string, value: number | string, label: string): Html {
  return html`<div class="tile" id="tile-${id}"><b>${value}</b><span>${label}</span></div>`;
}

/** A page that says something to a person instead of the dashboard (sign-in needed, refused, not configured). */
export function messagePage(title: string, message: string, action?: { href: string; label: string }): string {
  return layout(title, html`<div class="login"><h1>${title}</h1><p>${message}</p>${action ? html`<p><a class="button" href="${action.href}">${action.label}</a></p>` : ''}</div>`);
}
