// Client for HAProxy's CLI sockets (admin socket of a worker, master socket of the master-worker process).
// One command line per connection: several commands may be joined with `;`. Success is usually an empty answer and
// errors are English sentences, so callers match text. Through the master socket, `@1 <cmd>` reaches the current
// worker, so the control plane needs only the master socket.
import { createConnection } from 'node:net';

export const DEFAULT_CLI_TIMEOUT_MS = 5000;

/** For the bounded polling loops around the CLI. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class CliError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/**
 * Sends one command line and returns the whole answer. The write side is closed after the line (half-close): the
 * master CLI keeps the connection open until it sees the end of the input, the worker CLI closes after one line.
 */
export function cli(socketPath: string, commands: string | string[], timeoutMs = DEFAULT_CLI_TIMEOUT_MS): Promise<string> {
  const line = Array.isArray(commands) ? commands.join('; ') : commands;
  if (/[\r\n]/.test(line)) return Promise.reject(new CliError('a CLI command cannot contain a line break'));
  return exchange(socketPath, `${line}\n`, line, timeoutMs);
}

/**
 * One command with a payload (`add map … <<`): the payload's lines follow the command and an empty line ends it, so
 * the payload holds no empty line. Command and payload together must fit HAProxy's buffer (tune.bufsize).
 */
export function cliWithPayload(socketPath: string, command: string, payload: string, timeoutMs = DEFAULT_CLI_TIMEOUT_MS): Promise<string> {
  const lines = payload.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
  if (/[\r\n]/.test(command) || lines.some((l) => l === '' || l.includes('\r'))) {
    return Promise.reject(new CliError('a CLI command cannot contain a line break, nor its payload an empty line'));
  }
  return exchange(socketPath, `${command} <<\n${lines.join('\n')}\n\n`, command, timeoutMs);
}

function exchange(socketPath: string, text: string, label: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = createConnection(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new CliError(`no answer from ${socketPath} within ${timeoutMs} ms to: ${label}`, 'ETIMEDOUT'));
    }, timeoutMs);
    sock.on('connect', () => sock.end(text));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new CliError(`${socketPath}: ${e.message}`, e.code));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Pause between connection attempts to a master that refuses them. */
const REFUSED_RETRY_MS = 5;

/**
 * `cli`, tried again while the connection is refused: the master closes its socket while it re-executes (twice per
 * reload, tens of milliseconds each), and a refused connection delivered nothing. `timeoutMs` bounds all attempts.
 */
async function masterExchange(socketPath: string, commands: string | string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await cli(socketPath, commands, Math.max(1, deadline - Date.now()));
    } catch (e) {
      if ((e as CliError).code !== 'ECONNREFUSED' || Date.now() + REFUSED_RETRY_MS >= deadline) throw e;
      await sleep(REFUSED_RETRY_MS);
    }
  }
}

/** The master socket of one master-worker process. */
export class MasterCli {
  /** Commands wait for it while the master is known not to answer (see holdUntil). */
  private answering: Promise<void> = Promise.resolve();

  constructor(readonly socketPath: string, readonly timeoutMs = DEFAULT_CLI_TIMEOUT_MS) {}

  /** Holds every command until `back` resolves (it must not reject): the master re-executes meanwhile. */
  holdUntil(back: Promise<void>): void {
    this.answering = back;
  }

  /** Resolves once no hold is in force. */
  answered(): Promise<void> {
    return this.answering;
  }

  /** A command for the master itself (`show proc`, `reload`). */
  master(command: string, timeoutMs = this.timeoutMs): Promise<string> {
    return this.answering.then(() => masterExchange(this.socketPath, command, timeoutMs));
  }

  /** Commands for the current worker, run in order on one connection. */
  worker(commands: string | string[]): Promise<string> {
    const list = Array.isArray(commands) ? commands : [commands];
    return this.answering.then(() => masterExchange(this.socketPath, list.map((c) => `@1 ${c}`), this.timeoutMs));
  }
}

export interface ProcList {
  masterPid: number;
  /** Reloads the master went through; it grows by one on every reload, failed or not. */
  reloads: number;
  /** Failed reloads since the last successful one (`[failed: N]`). */
  failed: number;
  /** Current worker(s); with nbthread/nbproc 1 there is one. */
  workers: number[];
  /** Workers of previous generations still finishing their connections. */
  oldWorkers: number[];
}

/** Parses the master's `show proc`. */
export function parseShowProc(text: string): ProcList {
  const out: ProcList = { masterPid: 0, reloads: 0, failed: 0, workers: [], oldWorkers: [] };
  let section: 'workers' | 'oldWorkers' | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('# workers')) section = 'workers';
    else if (line.startsWith('# old workers')) section = 'oldWorkers';
    else if (line.startsWith('#')) section = null;
    else {
      const m = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line);
      if (!m) continue;
      if (m[2] === 'master') Object.assign(out, { masterPid: +m[1], reloads: +m[3], failed: +(m[4] ?? 0) });
      else if (m[2] === 'worker' && section) out[section].push(+m[1]);
    }
  }
  if (!out.masterPid) throw new CliError(`unexpected show proc answer: ${text.slice(0, 200)}`);
  return out;
}
