// The Node.js proxy a TypeScript team might pick instead: http-proxy (keep-alive agent, round robin) for HTTP, and a
// socket pipe for TCP. Run as its own process by the harness:
//   node dist/bench/node-proxy.js <http|tcp> <listenHost:port> <target:port>,<target:port>...
import { Agent, createServer } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import httpProxy from 'http-proxy';

const [mode, listen, targetList] = process.argv.slice(2);
const [host, port] = listen.split(':');
const targets = targetList.split(',').map((t) => {
  const [h, p] = t.split(':');
  return { host: h, port: Number(p) };
});
let next = 0;
const pick = () => targets[next++ % targets.length];

if (mode === 'http') {
  const proxy = httpProxy.createProxyServer({ agent: new Agent({ keepAlive: true, maxSockets: 256 }), xfwd: true });
  proxy.on('error', (_err, _req, res) => {
    if ('writeHead' in res && !res.headersSent) res.writeHead(502);
    res.end();
  });
  createServer((req, res) => {
    const t = pick();
    proxy.web(req, res, { target: `http://${t.host}:${t.port}` });
  }).listen(Number(port), host);
} else {
  createTcpServer((client) => {
    const t = pick();
    const upstream = connect(t.port, t.host);
    client.pipe(upstream).pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close);
    upstream.on('error', close);
  }).listen(Number(port), host);
}
