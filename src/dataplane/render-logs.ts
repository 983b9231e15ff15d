// Access logs: a frontend with enable_access_logs logs each request (HAProxy's HTTP or TCP log format) to the
// process's stdout, which is the LB's access.log (haproxy.ts); every other frontend logs nothing. HAProxy's own messages
// go to stderr (haproxy.log) through `log global`. Both files are rotated by size (src/ops/log-rotation.ts).

export function accessLogLines(enabled: boolean, http: boolean): string[] {
  // `no log` first: a frontend's own `log` line would otherwise add to the inherited `log global` (stderr) and every
  // request would be written to both files.
  if (!enabled) return ['no log'];
  return ['no log', 'log stdout format raw local0 info', http ? 'option httplog' : 'option tcplog'];
}
