// Helpers of the operations suites: raw HTTP on Fulcrum's own routes (outside the Scaleway prefix) and the CLI.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN, ZONE, type Fulcrum } from '../helpers/fulcrum.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** A request to `path` (absolute, e.g. /metrics) with the admin key unless `headers` say otherwise. */
export async function ops(f: Fulcrum, method: string, path: string, body?: unknown, headers: Record<string, string> = { 'X-Auth-Token': f.key }): Promise<Answer> {
  const r = await fetch(`${f.url}${path}`, {
    method, headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

export const serverPath = (backendId: string, ip: string, zone = ZONE): string =>
  `/fulcrum/v1/zones/${zone}/backends/${backendId}/servers/${encodeURIComponent(ip)}`;

/** Runs `fulcrum <args>`; resolves with stdout, rejects with stderr. */
export async function fulcrumCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 20_000 });
  return stdout;
}
