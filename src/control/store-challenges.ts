// HTTP-01 answers through a shared store (agents, several API servers on PostgreSQL): the ACME job's answer is written
// to the store, whose change feed brings it to every process running the LB's HAProxy (shared-dataplane.ts). The CA
// may validate as soon as the job goes on, so setting an answer then waits, bounded, until the LB's own address
// answers it on port 80 (the address, not the name: the name need only resolve for the CA). Past the bound the order
// goes on anyway, and the CA's validation decides.
import { request } from 'node:http';
import type { Logger } from 'pino';
import { checkChallenge } from '../dataplane/tls-runtime.js';
import type { ChallengeStore, Store } from '../store/store.js';
import type { DataPlanePort } from './port.js';

const ANSWERED_WAIT_MS = 10_000;
const ANSWERED_POLL_MS = 100;
const REQUEST_TIMEOUT_MS = 1000;

export function isChallengeStore(store: Store): store is Store & ChallengeStore {
  return 'setAcmeChallenge' in store;
}

export function storeChallenges(store: Store & ChallengeStore, log: Pick<Logger, 'warn'>): Required<Pick<DataPlanePort, 'setChallenge'>> {
  return {
    async setChallenge(lbId, token, keyAuthorization) {
      // Checked before it is stored: a bad row would fail every apply of the LB on every node.
      checkChallenge(token, keyAuthorization);
      if (!(await store.setAcmeChallenge(lbId, token, keyAuthorization)) || keyAuthorization === null) return;
      const addresses = (await store.snapshot(lbId))?.addresses ?? [];
      const deadline = Date.now() + ANSWERED_WAIT_MS;
      for (;;) {
        const answers = await Promise.all(addresses.map((a) => challengeAnswer(a, token)));
        if (answers.includes(keyAuthorization)) return;
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, ANSWERED_POLL_MS));
      }
      log.warn({ lbId, addresses, waitedMs: ANSWERED_WAIT_MS }, 'the LB\'s address does not answer the HTTP-01 challenge yet: letting the CA validate anyway');
    },
  };
}

/** The body of GET /.well-known/acme-challenge/<token> on port 80 of `address`, or null. */
function challengeAnswer(address: string, token: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request({ host: address, port: 80, path: `/.well-known/acme-challenge/${token}`, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 1024) body += d; });
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}
