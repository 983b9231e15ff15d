// A cluster of agents for the scale-out tests and bench: one `fulcrum agent` per network-namespace node (netns.ts),
// each with its own data dir, and the means to fail a node the way a crash does (SIGKILL of its agent, HAProxy and
// keepalived, found by the PIDs we started and those under its data dir).
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../../helpers/fulcrum.js';
import { haproxyPidsOf } from '../../helpers/procs.js';
import type { NetLab, Node } from '../../fixtures/netns.js';

/** Each agent serves its LBs' metrics on its node address, this port (every node has its own network namespace). */
export const NODE_METRICS_PORT = 9101;
/** The PEM sealing key of this test run's API servers and agents (FULCRUM_PEM_KEY). */
export const TEST_PEM_KEY = randomBytes(32).toString('base64');

export interface Agent {
  node: Node;
  dataDir: string;
  child: ChildProcess;
  output: string;
}

export interface AgentOptions {
  /** A key other than the API servers' (FULCRUM_PEM_KEY), to test a mismatch; '' for none. */
  pemKey?: string;
  /** More flags of `fulcrum agent`. */
  extraArgs?: string[];
}

/** Starts the node's agent, on a new data dir or (a restart) on the one given. */
export function startAgent(lab: NetLab, node: Node, storeUrl: string, dataDir = mkdtempSync(join(tmpdir(), `fulcrum-${node.name}-`)),
  { pemKey = TEST_PEM_KEY, extraArgs = [] }: AgentOptions = {}): Agent {
  const child = lab.spawnIn(node, process.execPath, [BIN, 'agent', '--node', node.name, '--interface', node.iface,
    '--node-address', node.address, '--data-dir', dataDir, '--metrics-listen', `${node.address}:${NODE_METRICS_PORT}`, '--log-level', 'warn',
    ...extraArgs],
  { env: { ...process.env, FULCRUM_STORE: storeUrl, FULCRUM_PEM_KEY: pemKey }, stdio: ['ignore', 'pipe', 'pipe'] });
  const a: Agent = { node, dataDir, child, output: '' };
  child.stdout!.on('data', (d) => { a.output += d; });
  child.stderr!.on('data', (d) => { a.output += d; });
  return a;
}

/** The pids of the node's keepalived (main and VRRP child), from the pid files its agent keeps. */
export function keepalivedPids(a: Agent): number[] {
  return ['keepalived.pid', 'vrrp.pid'].map((f) => {
    try {
      return Number.parseInt(readFileSync(join(a.dataDir, 'keepalived', f), 'utf8'), 10);
    } catch {
      return NaN;
    }
  }).filter((p) => Number.isInteger(p) && p > 0);
}

/** SIGKILL of everything the node runs: its agent, every HAProxy under its data dir, its keepalived. */
export function killNode(a: Agent): void {
  const pids = [a.child.pid, ...haproxyPidsOf(a.dataDir), ...keepalivedPids(a)].filter((p): p is number => p !== undefined);
  for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ }
}

/** Kills the node's processes and removes its data dir (teardown; also after a failure). */
export function destroyAgent(a: Agent): void {
  killNode(a);
  rmSync(a.dataDir, { recursive: true, force: true });
}

/** True when the node holds `address` on its interface (it is the VRRP master of that LB). */
export function holds(lab: NetLab, node: Node, address: string): boolean {
  return lab.execIn(node, 'ip', ['-4', '-o', 'addr', 'show', 'dev', node.iface]).includes(` ${address}/`);
}
