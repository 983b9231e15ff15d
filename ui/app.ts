// Fulcrum's dashboard: every LB the key sees, with its frontends, routes, backends and servers, each server's state, last
// check and live request/error rates, refreshed every few seconds. The key comes from a prompt or from the URL
// fragment (`/ui/#key=…`, never sent to the server); it is kept for the browser tab only (sessionStorage).
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { Api, Unauthorized, type Counters, type LbView, type Traffic } from './api.js';
import './app.css';

const html = htm.bind(h);
const REFRESH_MS = 3000;
const KEY_ITEM = 'fulcrum-key';

function keyFromFragment(): string | null {
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  if (key) history.replaceState(null, '', location.pathname + location.search); // out of the address bar and history
  return key;
}

/** Per second between two readings; null when unknown (first reading, or counters restarted by a reload). */
type Rates = { requests: number | null; errors: number | null };
function rate(now: Counters | undefined, before: Counters | undefined, seconds: number): Rates {
  if (!now || !before || seconds <= 0 || now.requests_total < before.requests_total) return { requests: null, errors: null };
  return { requests: (now.requests_total - before.requests_total) / seconds,
    errors: Math.max(0, now.errors_total - before.errors_total) / seconds };
}
const fmt = (v: number | null) => (v === null ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0));

function since(iso: string | null): string {
  if (!iso) return '–';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

const badge = (text: string, kind: string) => html`<span class="badge ${kind}">${text}</span>`;
const STATE_KIND: Record<string, string> = { running: 'ok', starting: 'warn', stopping: 'warn', stopped: 'bad', ready: 'ok',
  pending: 'warn', error: 'bad', passed: 'ok', condpass: 'warn', failed: 'bad', unknown: 'muted', neutral: 'muted' };

function checkKind(hc: Record<string, unknown>): string {
  for (const k of ['http', 'https', 'mysql', 'pgsql', 'ldap', 'redis', 'tcp']) if (hc[`${k}_config`]) return k;
  return 'tcp';
}

/** `host_header = shop.example.com (and subdomains)` from a route's match object. */
function matchText(match: Record<string, string | boolean>): string {
  const [kind, value] = Object.entries(match).find(([k]) => k !== 'match_subdomains') ?? ['', ''];
  return `${kind} = ${String(value)}${match.match_subdomains ? ' (and subdomains)' : ''}`;
}

function LbCard({ v, before }: { v: LbView; before: Traffic | undefined }) {
  const seconds = before ? (Date.parse(v.traffic.read_at) - Date.parse(before.read_at)) / 1000 : 0;
  const instance = v.lb.instances[0]?.status ?? 'unknown';
  const backendName = new Map(v.backends.map((b) => [b.id, b.name]));
  return html`<section class="lb" data-lb=${v.lb.id}>
    <header>
      <h2>${v.lb.name || v.lb.id}</h2>
      ${badge(v.lb.status, STATE_KIND[v.lb.status] ?? 'muted')} ${badge(`instance ${instance}`, STATE_KIND[instance] ?? 'muted')}
      <span class="meta">${v.lb.ip.map((i) => i.ip_address).join(', ')} · ${v.lb.zone} · <code>${v.lb.id}</code></span>
      ${v.traffic.running ? null : badge('HAProxy not answering', 'bad')}
    </header>
    <h3>Frontends</h3>
    ${v.frontends.length === 0 ? html`<p class="meta">none</p>` : html`<div class="scroll"><table>
      <thead><tr><th>name</th><th>port</th><th>backend</th><th>req/s</th><th>5xx/s</th><th>logs</th></tr></thead>
      <tbody>${v.frontends.map((f) => {
        const r = rate(v.traffic.frontends.find((t) => t.frontend_id === f.id), before?.frontends.find((t) => t.frontend_id === f.id), seconds);
        return html`<tr><td>${f.name}</td><td>${f.inbound_port}</td><td>${backendName.get(f.backend.id) ?? f.backend.id}</td>
          <td class="num">${fmt(r.requests)}</td><td class="num">${fmt(r.errors)}</td><td>${f.enable_access_logs ? 'on' : 'off'}</td></tr>`;
      })}</tbody></table></div>`}
    ${v.routes.length === 0 ? null : html`<h3>Routes</h3><div class="scroll"><table>
      <thead><tr><th>frontend</th><th>match</th><th>backend</th></tr></thead>
      <tbody>${v.routes.map((r) => html`<tr data-route=${r.id}>
        <td>${v.frontends.find((f) => f.id === r.frontend_id)?.name ?? r.frontend_id}</td>
        <td><code>${matchText(r.match)}</code></td><td>${backendName.get(r.backend_id) ?? r.backend_id}</td></tr>`)}</tbody>
    </table></div>`}
    ${v.backends.map((b) => html`<div class="backend" data-backend=${b.id}>
      <h3>Backend ${b.name} <span class="meta">${b.forward_protocol}:${b.forward_port} · ${b.forward_port_algorithm} · ${checkKind(b.health_check)} check</span></h3>
      ${b.pool.length === 0 ? html`<p class="meta">no server</p>` : html`<div class="scroll"><table>
        <thead><tr><th>server</th><th>state</th><th>last check</th><th>changed</th><th>haproxy</th><th>weight</th><th>req/s</th><th>err/s</th></tr></thead>
        <tbody>${b.pool.map((ip) => {
          const s = v.stats.find((x) => x.backend_id === b.id && x.ip === ip);
          const t = v.traffic.servers.find((x) => x.backend_id === b.id && x.ip === ip);
          const r = rate(t, before?.servers.find((x) => x.backend_id === b.id && x.ip === ip), seconds);
          const state = s?.server_state ?? 'unknown';
          return html`<tr data-server=${`${b.id} ${ip}`} data-state=${state}>
            <td><code>${ip}</code></td><td>${badge(state, STATE_KIND[state] ?? 'muted')}</td>
            <td>${badge(s?.last_health_check_status ?? 'unknown', STATE_KIND[s?.last_health_check_status ?? 'unknown'] ?? 'muted')}</td>
            <td>${since(s?.server_state_changed_at ?? null)}</td><td>${t?.status ?? '–'}</td><td class="num">${t?.weight ?? '–'}</td>
            <td class="num">${fmt(r.requests)}</td><td class="num">${fmt(r.errors)}</td></tr>`;
        })}</tbody></table></div>`}
    </div>`)}
  </section>`;
}

function KeyForm({ onKey, message }: { onKey: (k: string) => void; message: string | null }) {
  const [value, setValue] = useState('');
  return html`<form class="key" onSubmit=${(e: Event) => { e.preventDefault(); if (value.trim()) onKey(value.trim()); }}>
    <h1>Fulcrum</h1>
    <p>The secret key to look with (it stays in this tab). You can also open <code>/ui/#key=…</code>.</p>
    ${message ? html`<p class="error">${message}</p>` : null}
    <input type="password" name="key" placeholder="secret key" autocomplete="off" value=${value}
      onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} />
    <button type="submit">Open</button>
  </form>`;
}

function App() {
  const [key, setKey] = useState<string | null>(() => {
    const k = keyFromFragment() ?? sessionStorage.getItem(KEY_ITEM);
    if (k) sessionStorage.setItem(KEY_ITEM, k);
    return k;
  });
  const [views, setViews] = useState<LbView[] | null>(null);
  const [previous, setPrevious] = useState<Map<string, Traffic>>(new Map());
  const [problem, setProblem] = useState<string | null>(null);
  const [updated, setUpdated] = useState<Date | null>(null);

  useEffect(() => {
    if (!key) return undefined;
    const api = new Api(key);
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = new Map<string, Traffic>();
    const tick = async () => {
      try {
        const { zones } = await api.zones();
        const next = await api.view(zones);
        if (stopped) return;
        setPrevious(last);
        last = new Map(next.map((v) => [v.lb.id, v.traffic]));
        setViews(next);
        setProblem(null);
        setUpdated(new Date());
      } catch (e) {
        if (stopped) return;
        if (e instanceof Unauthorized) {
          sessionStorage.removeItem(KEY_ITEM);
          setKey(null);
          setProblem('That key was refused.');
          return;
        }
        setProblem(`Cannot reach Fulcrum: ${(e as Error).message}`);
      }
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => { stopped = true; clearTimeout(timer); };
  }, [key]);

  if (!key) return html`<${KeyForm} message=${problem} onKey=${(k: string) => { sessionStorage.setItem(KEY_ITEM, k); setProblem(null); setKey(k); }} />`;
  return html`<main>
    <header class="top">
      <h1>Fulcrum</h1>
      <span class="meta" data-updated=${updated ? updated.toISOString() : ''}>${updated ? `updated ${updated.toLocaleTimeString()}` : 'loading…'} · every ${REFRESH_MS / 1000}s</span>
      <button class="link" onClick=${() => { sessionStorage.removeItem(KEY_ITEM); setKey(null); setViews(null); }}>forget key</button>
    </header>
    ${problem ? html`<p class="error">${problem}</p>` : null}
    ${views && views.length === 0 ? html`<p class="meta">No load balancer in sight of this key.</p>` : null}
    ${(views ?? []).map((v) => html`<${LbCard} key=${v.lb.id} v=${v} before=${previous.get(v.lb.id)} />`)}
  </main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
