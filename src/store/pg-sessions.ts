// Dedicated PostgreSQL connections (a LISTEN, a session-level lock): opened with their setup or not at all, and ended
// quietly. A connection being thrown away must not tell its listeners (they would take it for a live one dropping),
// and an error it emits late must not crash the process.
import type pg from 'pg';

/** Ends the connection without a word: its listeners go first, a late error is swallowed. */
export async function discard(client: pg.Client): Promise<void> {
  client.removeAllListeners();
  client.on('error', () => undefined);
  await client.end().catch(() => undefined);
}

/** Connects and runs `setup` (LISTEN, a lock); on any failure the connection is discarded and the error thrown. */
export async function openSession(client: pg.Client, setup: (c: pg.Client) => Promise<unknown>): Promise<void> {
  try {
    await client.connect();
    await setup(client);
  } catch (err) {
    await discard(client);
    throw err;
  }
}
