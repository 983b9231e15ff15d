// The files and runtime commands behind TLS and ACME for one LB's HAProxy:
// - crt-lists written before a config that names them is validated, and pruned once a config no longer does;
// - a certificate whose PEM changed (a renewal) while the config did not is swapped in the running worker with
//   `set ssl cert` + `commit ssl cert`: no reload, no connection touched;
// - HTTP-01 answers are lines of the challenge map, written to the file (for the next reload) and set in the running
//   worker with `del map` / `add map`.
import { createConnection } from 'node:net';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { certificateFileName } from '../domain/certificates.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import { writeAtomic } from './haproxy.js';
import { challengeMapPath, crtListsOf, type TlsPaths } from './render-tls.js';
import { CliError, DEFAULT_CLI_TIMEOUT_MS, cli } from './runtime.js';

/** Writes the crt-lists the snapshot's config names, and makes sure the challenge map exists (HAProxy loads it). */
export async function writeTlsFiles(snapshot: LbSnapshot, p: TlsPaths): Promise<void> {
  await mkdir(join(p.runDir, 'tls'), { recursive: true, mode: 0o700 });
  for (const l of crtListsOf(snapshot, p)) await writeAtomic(l.path, l.text);
  const map = challengeMapPath(p.runDir);
  await readFile(map).catch(() => writeAtomic(map, ''));
}

/** Removes the crt-lists that neither of these snapshots names (older generations). */
export async function pruneCrtLists(keep: LbSnapshot[], p: TlsPaths): Promise<void> {
  const names = new Set(keep.flatMap((s) => crtListsOf(s, p).map((l) => l.path)));
  const dir = join(p.runDir, 'tls');
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!names.has(join(dir, f))) await rm(join(dir, f), { force: true });
  }
}

/** PEM paths of the certificates used by a frontend of `next` whose PEM differs from what `prev` had. */
export function renewedCertificates(prev: LbSnapshot, next: LbSnapshot, p: TlsPaths): string[] {
  const before = new Map((prev.certificates ?? []).map((c) => [c.id, c.pemSha256]));
  const used = new Set(next.frontends.flatMap((f) => f.certificateIds));
  return (next.certificates ?? []).filter((c) => used.has(c.id) && c.pemSha256 !== null && before.get(c.id) !== c.pemSha256)
    .map((c) => join(p.certDir, certificateFileName(c.id)));
}

/** One command with a multi-line payload (`<<`), as the CLI takes a certificate. Resolves with the answer. */
function cliPayload(socketPath: string, command: string, payload: string, timeoutMs = DEFAULT_CLI_TIMEOUT_MS): Promise<string> {
  // An empty line ends the payload: PEM text has none, but make sure.
  const body = payload.split('\n').filter((l) => l.trim() !== '').join('\n');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = createConnection(socketPath);
    const timer = setTimeout(() => { sock.destroy(); reject(new CliError(`no answer from ${socketPath} to: ${command}`, 'ETIMEDOUT')); }, timeoutMs);
    sock.on('connect', () => sock.end(`${command} <<\n${body}\n\n`));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); reject(new CliError(`${socketPath}: ${e.message}`, e.code)); });
    sock.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

/** Swaps each certificate (PEM path as the config names it) in the running worker; throws when HAProxy refuses. */
export async function swapCertificates(adminSock: string, pemPaths: string[]): Promise<void> {
  for (const path of pemPaths) {
    const set = await cliPayload(adminSock, `set ssl cert ${path}`, await readFile(path, 'utf8'));
    if (!/Transaction (created|updated)/.test(set)) throw new CliError(`set ssl cert ${path}: ${set.trim()}`);
    const commit = await cli(adminSock, `commit ssl cert ${path}`);
    if (!/Success!/.test(commit)) {
      await cli(adminSock, `abort ssl cert ${path}`).catch(() => undefined);
      throw new CliError(`commit ssl cert ${path}: ${commit.trim()}`);
    }
  }
}

/** ACME tokens and key authorizations are base64url (with one `.` in the latter): nothing else reaches the map. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const KEY_AUTHORIZATION = /^[A-Za-z0-9_-]{1,256}\.[A-Za-z0-9_-]{1,128}$/;

/** Refuses a token or key authorization that is not base64url (it would reach the map and runtime commands). */
export function checkChallenge(token: string, keyAuthorization: string | null): void {
  if (!TOKEN.test(token) || (keyAuthorization !== null && !KEY_AUTHORIZATION.test(keyAuthorization))) {
    throw new Error('ACME token or key authorization has unexpected characters');
  }
}

/** Sets (keyAuthorization given) or removes (null) one HTTP-01 answer, in the map file and in the running worker. */
export async function setChallenge(adminSock: string | null, runDir: string, token: string, keyAuthorization: string | null): Promise<void> {
  checkChallenge(token, keyAuthorization);
  const map = challengeMapPath(runDir);
  await mkdir(dirname(map), { recursive: true, mode: 0o700 });
  const lines = (await readFile(map, 'utf8').catch(() => '')).split('\n').filter((l) => l && !l.startsWith(`${token} `));
  if (keyAuthorization !== null) lines.push(`${token} ${keyAuthorization}`);
  await writeAtomic(map, lines.map((l) => `${l}\n`).join(''));
  if (!adminSock) return;
  const commands = [`del map ${map} ${token}`, ...(keyAuthorization !== null ? [`add map ${map} ${token} ${keyAuthorization}`] : [])];
  // `del map` of an absent key answers an error sentence; what matters is the last answer.
  await cli(adminSock, commands);
}
