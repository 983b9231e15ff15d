// Free ports from the OS and private loopback addresses, so that parallel tests never collide.
import { createServer } from 'node:net';

/** A port the OS just handed out on `host` (closed again before returning). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A random /24 inside 127.0.0.0/8 (127.101–227.x.0), for one test's IP pool or backend servers. */
export function loopbackNet(): string {
  const a = 101 + Math.floor(Math.random() * 127);
  const b = Math.floor(Math.random() * 256);
  return `127.${a}.${b}`;
}
