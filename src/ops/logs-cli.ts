// `fulcrum logs LB_ID [--follow] [--process]`: prints an LB's access log (or HAProxy's own log), rotated files first,
// oldest to newest; --follow then prints lines as they are written, across rotations. Reads the data dir like
// `fulcrum keys` (it needs no running `fulcrum serve`).
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { lbPaths } from '../dataplane/haproxy.js';
import { sleep } from '../dataplane/runtime.js';

export interface LogsOptions {
  follow?: boolean;
  process?: boolean;
  /** Output sink (stdout by default). */
  write?: (text: string) => void;
  /** Ends --follow (tests; the CLI follows until interrupted). */
  signal?: AbortSignal;
}

const FOLLOW_POLL_MS = 200;
const CHUNK = 1 << 16;

/** Writes bytes [from, end of file) of `file`; returns the offset reached. */
async function copyFrom(file: string, from: number, write: (t: string) => void): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    let pos = from;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) return pos;
      write(buf.subarray(0, bytesRead).toString('utf8'));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

export async function printLogs(dataDir: string, lbId: string, o: LogsOptions = {}): Promise<void> {
  const paths = lbPaths(dataDir, lbId); // refuses ids that are not ids (no path tricks)
  if (!existsSync(paths.dir)) throw new Error(`no load balancer ${lbId} in ${dataDir} (give the --data-dir of fulcrum serve)`);
  const file = o.process ? paths.logFile : paths.accessLogFile;
  const write = o.write ?? ((t: string) => { process.stdout.write(t); });
  for (let i = 99; i >= 1; i--) if (existsSync(`${file}.${i}`)) await copyFrom(`${file}.${i}`, 0, write);
  const rotatedId = () => stat(`${file}.1`).then((s) => s.ino, () => null);
  let lastRotated = await rotatedId();
  let pos = existsSync(file) ? await copyFrom(file, 0, write) : 0;
  while (o.follow && !o.signal?.aborted) {
    await sleep(FOLLOW_POLL_MS);
    // A new `.1` (log-rotation.ts renames it into place, complete, just before emptying the file) means a rotation:
    // what was written after our last read is at the end of `.1`, and the file starts over. Sizes alone could not
    // tell: the emptied file may have grown past our position again before we look.
    const rotated = await rotatedId();
    if (rotated !== null && rotated !== lastRotated) {
      lastRotated = rotated;
      await copyFrom(`${file}.1`, pos, write);
      pos = 0;
    }
    const size = await stat(file).then((s) => s.size, () => 0);
    if (size < pos) pos = 0; // emptied by something else
    if (size > pos) pos = await copyFrom(file, pos, write);
  }
}
