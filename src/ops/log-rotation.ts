// Size-based rotation of every LB's access.log and haproxy.log: `<file>.1` … `<file>.<keep>`, newest first, older ones
// deleted. HAProxy holds the files open (O_APPEND) and outlives `fulcrum serve`, so a file is rotated by copy and
// truncate: its next line lands at the start of the emptied file. Bytes written during the copy are caught up, and the
// last catch-up and the truncate are synchronous calls back to back, so only a line written in those microseconds would
// be lost; to avoid even that, a file over the limit is rotated when it did not grow since the previous look (a lull),
// and regardless once it is twice the limit. While `fulcrum serve` is down nothing is rotated.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { copyFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogRotationOptions {
  /** A file is rotated once it is larger than this. */
  maxBytes: number;
  /** Rotated files kept per log. */
  keep: number;
  /** How often sizes are looked at. Default 1000 ms. */
  intervalMs?: number;
}

export const LOG_FILES = ['access.log', 'haproxy.log'] as const;

/** Rotates `file` now: shifts the kept copies, copies it to `<file>.1`, empties it. */
export async function rotate(file: string, keep: number): Promise<void> {
  await rm(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    await rename(`${file}.${i}`, `${file}.${i + 1}`).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
  }
  const fd = openSync(file, 'r+');
  const tmp = `${file}.1.tmp`;
  try {
    await copyFile(file, tmp);
    let copied = (await stat(tmp)).size;
    const out = openSync(tmp, 'a');
    try {
      // Synchronous from here to the truncate: nothing else runs in between.
      for (let size = fstatSync(fd).size; size > copied; size = fstatSync(fd).size) {
        const rest = Buffer.alloc(size - copied);
        readSync(fd, rest, 0, rest.length, copied);
        writeSync(out, rest);
        copied = size;
      }
      // `.1` appears complete (a reader following the log takes a new `.1` as the sign of a rotation).
      renameSync(tmp, `${file}.1`);
      ftruncateSync(fd, 0);
    } finally {
      closeSync(out);
    }
  } finally {
    closeSync(fd);
  }
}

export class LogRotator {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Each file's size at the previous pass. */
  private lastSizes = new Map<string, number>();

  constructor(private readonly dataDir: string, private readonly opts: LogRotationOptions) {}

  start(): void {
    this.timer = setInterval(() => { this.running ??= this.pass().finally(() => { this.running = null; }); }, this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One look at every LB's logs. Errors (an LB deleted meanwhile) only skip that file until the next pass. */
  private async pass(): Promise<void> {
    const lbs = join(this.dataDir, 'lbs');
    const ids = await readdir(lbs).catch(() => [] as string[]);
    const sizes = new Map<string, number>();
    for (const id of ids) {
      for (const name of LOG_FILES) {
        const file = join(lbs, id, name);
        const size = await stat(file).then((s) => s.size, () => 0);
        const lull = this.lastSizes.get(file) === size;
        if (size > this.opts.maxBytes && (lull || size > 2 * this.opts.maxBytes)) {
          await rotate(file, this.opts.keep).then(() => sizes.set(file, 0), () => undefined);
        } else sizes.set(file, size);
      }
    }
    this.lastSizes = sizes;
  }
}
