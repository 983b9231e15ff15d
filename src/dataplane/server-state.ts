// The server-state file written before a reload, which the new worker loads (`load-server-state-from-file`).
// - A state line carries a server's operational state (UP/DOWN, MAINT, DRAIN, weight) over the reload. HAProxy 2.6
//   also restores the service port, the ssl on/off flag and the check port from it (server_state.c,
//   srv_state_srv_update), which would silently undo a change of forward_port, ssl_bridging or health-check port: so
//   these columns are rewritten to the new config's values.
// - A server whose checks now go elsewhere (address, check port, TLS or not) has not passed a check there: it gets a
//   DOWN line, like every checked server of the new config without a line (new backend, recreated pool). A static
//   server would otherwise start UP and take traffic before its first check; DOWN, it takes traffic once `rise` checks
//   passed, like a server added through the runtime API. A forward_port change whose checks keep their port keeps
//   the servers' states: their checks did not change.

/** The header of HAProxy 2.6's `show servers state` (state file version 1), used when the dump has none. */
const HEADER_26 = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
  + 'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state '
  + 'bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr '
  + 'srv_agent_addr srv_agent_port';

interface ServerLine {
  backend: string;
  name: string;
  addr: string;
  port: string;
  id: string;
  ssl: boolean;
  /** The `port` of its checks, '' when they go to the traffic port. */
  checkPort: string;
  checkSsl: boolean;
  checked: boolean;
}

/** Backend section name → its indented lines, from a rendered config (sections start on unindented lines). */
function backendSections(config: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of config.split('\n')) {
    if (line.length && line[0] !== ' ') {
      current = line.startsWith('backend ') ? [] : null;
      if (current) out.set(line.slice(8).trim(), current);
    } else if (current && line) current.push(line);
  }
  return out;
}

/** `<server name>` → its server line, for one backend section's lines. */
function serverLines(backend: string, lines: string[]): Map<string, ServerLine> {
  const out = new Map<string, ServerLine>();
  for (const line of lines) {
    if (!line.startsWith('  server ')) continue;
    const [name, addrPort, ...args] = line.slice(9).trim().split(/\s+/);
    const at = (k: string) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] ?? '' : '');
    const hp = /^\[?(.*?)\]?:(\d+)$/.exec(addrPort ?? '');
    out.set(name, {
      backend, name, addr: hp?.[1] ?? addrPort, port: hp?.[2] ?? '0', id: at('id'), ssl: args.includes('ssl'),
      checkPort: at('port'), checkSsl: args.includes('check-ssl'), checked: args.includes('check'),
    });
  }
  return out;
}

/** Where the server's checks go: a state from checks elsewhere does not hold for it. */
const checkTarget = (s: ServerLine): string => `${s.addr} ${s.checkPort || s.port} ${s.ssl || s.checkSsl}`;

/** The columns a state line restores over the config, with the config's values. */
const DEFINITION_COLS = ['srv_port', 'srv_use_ssl', 'srv_check_port'] as const;
const definition = (s: ServerLine): Record<(typeof DEFINITION_COLS)[number], string> =>
  ({ srv_port: s.port, srv_use_ssl: s.ssl ? '1' : '0', srv_check_port: s.checkPort || '0' });

/**
 * A state line for a server that must start DOWN until `rise` checks pass: operational state stopped, check health 0,
 * last check "initializing" (status 1: a line with status 0 left the check stuck in 2.6), the check enabled.
 * The backend is found by name (its id is not forced), the server by its forced id. Weight 1: the renderer sets none.
 */
function downLine(cols: string[], s: ServerLine): string {
  const v: Record<string, string> = {
    be_id: '0', be_name: s.backend, srv_id: s.id, srv_name: s.name, srv_addr: s.addr, srv_op_state: '0',
    srv_admin_state: '0', srv_uweight: '1', srv_iweight: '1', srv_time_since_last_change: '0', srv_check_status: '1',
    srv_check_result: '0', srv_check_health: '0', srv_check_state: '6', srv_agent_state: '0', bk_f_forced_id: '0',
    srv_f_forced_id: '1', srv_fqdn: '-', srvrecord: '-', srv_check_addr: '-', srv_agent_addr: '-', srv_agent_port: '0',
    ...definition(s),
  };
  return cols.map((c) => v[c] ?? '-').join(' ');
}

/**
 * The state file for a reload from `running` to `next`, from the running worker's `show servers state` dump: the
 * dump's lines with the definition columns of `next`, except for servers whose check target changed from `running`
 * (servers absent from `running` were added at runtime with the new definition), plus a DOWN line for every checked
 * server of `next` left without a line.
 */
export function carryOverState(dump: string, running: string, next: string): string {
  const before = backendSections(running);
  const after = backendSections(next);
  // A backend whose section did not change keeps every line as it is: at the API's limits most of a reload's 30,000
  // servers are there, and parsing them all took a second on a loaded machine.
  const changed = new Map<string, { was: Map<string, ServerLine>; now: Map<string, ServerLine>; kept: Set<string> }>();
  for (const [name, lines] of after) {
    const old = before.get(name);
    if (old && old.length === lines.length && old.every((l, i) => l === lines[i])) continue;
    changed.set(name, { was: serverLines(name, old ?? []), now: serverLines(name, lines), kept: new Set() });
  }
  const lines = dump.split('\n').filter((l) => l && l !== '1');
  const header = lines.find((l) => l.startsWith('# ')) ?? HEADER_26;
  const cols = header.slice(2).trim().split(/\s+/);
  const [be, srv] = [cols.indexOf('be_name'), cols.indexOf('srv_name')];
  if (be < 0 || srv < 0) return dump;
  const definitionCols = DEFINITION_COLS.map((c) => [c, cols.indexOf(c)] as const).filter(([, i]) => i >= 0);
  const out = ['1', header];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    // The backend name is the second column in 2.6: read without splitting the line when so.
    const second = be === 1 ? line.slice(line.indexOf(' ') + 1, line.indexOf(' ', line.indexOf(' ') + 1)) : null;
    if (second !== null && !changed.has(second)) {
      out.push(line);
      continue;
    }
    const f = line.trim().split(' ');
    const c = changed.get(f[be]);
    const now = c?.now.get(f[srv]);
    if (!c || !now) {
      out.push(line); // unchanged, or a server the new config does not have (HAProxy skips its line)
      continue;
    }
    const was = c.was.get(f[srv]);
    if (was && checkTarget(was) !== checkTarget(now)) continue;
    const values = definition(now);
    for (const [col, i] of definitionCols) f[i] = values[col];
    c.kept.add(f[srv]);
    out.push(f.join(' '));
  }
  for (const c of changed.values()) {
    for (const [name, s] of c.now) if (s.checked && !c.kept.has(name)) out.push(downLine(cols, s));
  }
  return `${out.join('\n')}\n`;
}
