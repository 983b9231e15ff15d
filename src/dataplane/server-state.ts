// What the server-state file may carry over a reload. HAProxy 2.6 applies a state line over the new config's server:
// besides the operational state we want kept (UP/DOWN, MAINT, DRAIN, weight), it also restores the service port, the
// ssl on/off flag and the check port (server_state.c, srv_state_srv_update). A reload that changes forward_port,
// ssl_bridging or the health-check port would thus be silently undone. So a server's line is dropped when these parts
// of its `server` line differ between the running and the new config; it then starts from its new definition.

/** `<backend> <server>` → the parts of its server line that a state line would override. */
export function serverIdentities(config: string): Map<string, string> {
  const out = new Map<string, string>();
  let backend = '';
  for (const line of config.split('\n')) {
    const section = /^(\S+)(?:\s+(\S+))?/.exec(line); // any unindented line starts a section
    if (section) {
      backend = section[1] === 'backend' ? section[2] ?? '' : '';
      continue;
    }
    const srv = /^\s+server\s+(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!srv || !backend) continue;
    const args = srv[3].trim().split(/\s+/);
    const checkPort = args.indexOf('port');
    out.set(`${backend} ${srv[1]}`, [srv[2], args.includes('ssl') ? 'ssl' : '', checkPort >= 0 ? args[checkPort + 1] : '']
      .join(' '));
  }
  return out;
}

/**
 * The `show servers state` dump without the lines of servers whose address, port, ssl or check port changed from
 * `running` to `next`. Servers absent from `running` (added at runtime with the new definition) are kept.
 */
export function carryOverState(dump: string, running: string, next: string): string {
  const before = serverIdentities(running);
  const after = serverIdentities(next);
  const lines = dump.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return dump;
  const cols = header.slice(2).trim().split(/\s+/);
  const [be, srv] = [cols.indexOf('be_name'), cols.indexOf('srv_name')];
  if (be < 0 || srv < 0) return dump;
  return lines.filter((line) => {
    if (line.startsWith('#') || !line.includes(' ')) return true;
    const f = line.trim().split(/\s+/);
    const key = `${f[be]} ${f[srv]}`;
    return !(before.has(key) && after.has(key) && before.get(key) !== after.get(key));
  }).join('\n');
}
