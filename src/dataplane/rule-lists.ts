// The map files of ACL subnet lists (render-rules.ts ruleLists): written beside the config before HAProxy reads them,
// and replaced in the running worker through its admin socket without a reload — prepare map, add map with a payload,
// commit map: the new list becomes visible atomically (measured: 10,000 subnets in tens of milliseconds).
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeAtomic } from './haproxy.js';
import { cli, cliWithPayload } from './runtime.js';

/** A CLI command line with its payload must fit HAProxy's buffer (tune.bufsize, 16 KiB by default). */
const PAYLOAD_BYTES = 12 * 1024;

/** Writes the files whose content differs from what is on disk; returns those (path → content). */
export async function writeRuleLists(files: Map<string, string>): Promise<Map<string, string>> {
  const changed = new Map<string, string>();
  for (const [path, text] of files) {
    const old = await readFile(path, 'utf8').catch(() => null);
    if (old === text) continue;
    await mkdir(dirname(path), { recursive: true });
    await writeAtomic(path, text);
    changed.set(path, text);
  }
  return changed;
}

/** Deletes the map files of `dir` that the applied config no longer references. */
export async function pruneRuleLists(dir: string, keep: Map<string, string>): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.endsWith('.map') && !keep.has(join(dir, n))).map((n) => rm(join(dir, n), { force: true })));
}

/** Splits map lines into payloads of at most PAYLOAD_BYTES. */
function payloads(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const line of text.split('\n').filter((l) => l)) {
    if (cur.length + line.length + 1 > PAYLOAD_BYTES) {
      out.push(cur);
      cur = '';
    }
    cur += `${line}\n`;
  }
  if (cur) out.push(cur);
  return out;
}

/** HAProxy answers a successful change with nothing (blank lines); anything else is its error sentence. */
function check(answer: string, what: string): void {
  if (answer.trim()) throw new Error(`${what}: ${answer.trim().slice(0, 200)}`);
}

/** Replaces the live content of each map file in the worker behind `adminSock`. Throws when the worker refuses. */
export async function pushRuleLists(adminSock: string, changed: Map<string, string>): Promise<void> {
  for (const [path, text] of changed) {
    const prepared = await cli(adminSock, `prepare map ${path}`);
    const version = /New version created: (\d+)/.exec(prepared)?.[1];
    if (!version) throw new Error(`prepare map ${path}: ${prepared.trim().slice(0, 200)}`);
    for (const p of payloads(text)) check(await cliWithPayload(adminSock, `add map @${version} ${path}`, p), `add map ${path}`);
    check(await cli(adminSock, `commit map @${version} ${path}`), `commit map ${path}`);
  }
}
