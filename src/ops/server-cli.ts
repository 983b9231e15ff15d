// `fulcrum server show|set BACKEND_ID IP`: server administration for humans. It talks to the API of a running
// `fulcrum serve` (not to the store): a change must reach HAProxy, and only the serving process drives it.
import { ADMIN_STATES } from '../domain/server-admin.js';

export interface ServerCliOptions {
  url: string;
  key?: string;
  zone: string;
  json?: boolean;
}

export interface ServerChange {
  weight?: string;
  state?: string;
  slowStart?: string;
}

async function call(o: ServerCliOptions, method: 'GET' | 'PATCH', backendId: string, ip: string, body?: unknown): Promise<Record<string, unknown>> {
  if (!o.key) throw new Error('no secret key: give --key or set FULCRUM_SECRET_KEY');
  const url = `${o.url.replace(/\/$/, '')}/fulcrum/v1/zones/${encodeURIComponent(o.zone)}/backends/${encodeURIComponent(backendId)}`
    + `/servers/${encodeURIComponent(ip)}`;
  const res = await fetch(url, {
    method, headers: { 'X-Auth-Token': o.key, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({})) as Record<string, unknown>;
  if (!res.ok) {
    const details = Array.isArray(json.details)
      ? (json.details as { argument_name: string; help_message: string }[]).map((d) => `${d.argument_name}: ${d.help_message}`).join('; ') : '';
    throw new Error(`${res.status} ${String(json.message ?? json.type ?? '')}${details ? ` (${details})` : ''}`);
  }
  return json;
}

function format(s: Record<string, unknown>, json: boolean | undefined): string {
  if (json) return JSON.stringify(s);
  const rows = Object.entries(s).map(([k, v]) => [k, v === null ? '-' : String(v)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export async function showServer(backendId: string, ip: string, o: ServerCliOptions): Promise<string> {
  return format(await call(o, 'GET', backendId, ip), o.json);
}

export async function setServer(backendId: string, ip: string, change: ServerChange, o: ServerCliOptions): Promise<string> {
  const body: Record<string, unknown> = {};
  if (change.weight !== undefined) {
    if (!/^\d{1,3}$/.test(change.weight)) throw new Error(`--weight ${change.weight}: expected a whole number 0-256`);
    body.weight = Number(change.weight);
  }
  if (change.state !== undefined) {
    if (!(ADMIN_STATES as readonly string[]).includes(change.state)) throw new Error(`--state ${change.state}: one of ${ADMIN_STATES.join(', ')}`);
    body.admin_state = change.state;
  }
  if (change.slowStart !== undefined) body.slow_start = change.slowStart === 'off' ? null : change.slowStart;
  if (Object.keys(body).length === 0) throw new Error('nothing to change: give --weight, --state or --slow-start');
  return format(await call(o, 'PATCH', backendId, ip, body), o.json);
}
