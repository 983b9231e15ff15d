// Finds the HAProxy processes serving one LB, from /proc (their command line names the LB's directory).
import { readFileSync, readdirSync } from 'node:fs';

export function haproxyPidsOf(lbDir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('haproxy') && cmd.some((a) => a.startsWith(lbDir))) pids.push(Number(name));
    } catch { /* the process ended meanwhile */ }
  }
  return pids;
}

/** The master among them: the one whose parent is not one of them. */
export function haproxyMastersOf(lbDir: string): number[] {
  const pids = haproxyPidsOf(lbDir);
  return pids.filter((pid) => {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      return !pids.includes(ppid);
    } catch {
      return false;
    }
  });
}
