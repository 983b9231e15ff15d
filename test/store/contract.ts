// The contract every Store implementation passes (src/store/store.ts): CRUD of each resource, filters, order and
// paging, the config version and change listeners, uniqueness, cascades and snapshots. Run it with
// `storeContract(name, makeStore)` from an implementation's own test file.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Acl } from '../../src/domain/acls.js';
import type { Backend } from '../../src/domain/backends.js';
import type { Certificate } from '../../src/domain/certificates.js';
import type { Frontend } from '../../src/domain/frontends.js';
import type { Ip } from '../../src/domain/ips.js';
import { hashSecretKey, newAccessKey, type ApiKey } from '../../src/domain/keys.js';
import type { Lb, PnAttachment } from '../../src/domain/lbs.js';
import { freeAddress } from '../../src/domain/private-networks.js';
import type { Route } from '../../src/domain/routes.js';
import type { Subscriber } from '../../src/domain/subscribers.js';
import { ConflictError, LimitError, STORE_LIMITS, type OrderBy, type Page, type Store } from '../../src/store/store.js';
import { makeBackend, makeFrontend, makeLb } from '../fixtures/snapshots.js';

/** A fresh, empty store, and a way to open a second handle (another connection) on the same data. */
export interface StoreUnderTest {
  store: Store;
  /** Another handle on the same data: it sees only what is committed. */
  peer(): Promise<Store>;
  /** Closes every handle and removes the data. */
  destroy(): Promise<void>;
}

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';

/** Strictly increasing timestamps, so that creation order is known; `same` repeats the last one. */
let clock = Date.parse('2026-01-01T00:00:00.000Z');
function at(same = false): string {
  if (!same) clock += 1000;
  return new Date(clock).toISOString();
}

let addressSeq = 0;
function nextAddress(v6 = false): string {
  addressSeq++;
  return v6 ? `fd00::${addressSeq.toString(16)}` : `10.${(addressSeq >> 16) & 255}.${(addressSeq >> 8) & 255}.${addressSeq & 255}`;
}

function lb(over: Partial<Lb> = {}): Lb {
  const t = at();
  return makeLb(randomUUID(), { projectId: P1, organizationId: P1, createdAt: t, updatedAt: t, ...over });
}

function ip(over: Partial<Ip> = {}): Ip {
  const t = at();
  return {
    id: randomUUID(), zone: 'fr-par-1', address: nextAddress(), projectId: P1, organizationId: P1, lbId: null,
    reverse: 'r.example.com', tags: [], createdAt: t, updatedAt: t, ...over,
  };
}

function backend(lbId: string, over: Partial<Backend> = {}): Backend {
  const t = at();
  return makeBackend(randomUUID(), lbId, { pool: ['10.0.0.1', '::1'], createdAt: t, updatedAt: t, ...over });
}

function frontend(lbId: string, backendId: string, port: number, over: Partial<Frontend> = {}): Frontend {
  const t = at();
  return makeFrontend(randomUUID(), lbId, backendId, port, { createdAt: t, updatedAt: t, ...over });
}

function attachedTo(privateNetworkId: string, address: string): PnAttachment {
  return { privateNetworkId, cidr: '172.16.9.0/29', address, mode: 'dhcp', ipamIds: [randomUUID()], createdAt: at(), updatedAt: at(true) };
}

const page = (over: Partial<Page> = {}): Page => ({ page: 1, pageSize: 100, orderBy: 'created_at_asc', ...over });

export function storeContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: Store;
    /** LB ids the change listeners were told about, in order. */
    let changes: string[];
    beforeEach(async () => {
      sut = await makeStore();
      store = sut.store;
      changes = [];
      store.onChange((id) => changes.push(id));
    });
    afterEach(async () => { await sut.destroy(); });

    /** Runs a write and returns the LB ids it notified. */
    async function notified(write: () => Promise<unknown>): Promise<string[]> {
      changes = [];
      await write();
      return changes;
    }

    async function version(lbId: string): Promise<number> {
      const found = await store.getLb(lbId);
      assert.ok(found, `LB ${lbId} exists`);
      return found.configVersion;
    }

    /** Asserts that `write` bumps the LB's config version by exactly one and notifies it once. */
    async function bumpsOnce(lbId: string, write: () => Promise<unknown>): Promise<void> {
      const v = await version(lbId);
      assert.deepEqual(await notified(write), [lbId]);
      assert.equal(await version(lbId), v + 1);
    }

    /** Asserts that `write` is refused and neither changes the LB's version nor notifies anyone. */
    async function refusedQuietly(lbId: string, write: () => Promise<unknown>, check: (err: unknown) => boolean): Promise<void> {
      const v = await version(lbId);
      changes = [];
      await assert.rejects(write(), (err) => check(err));
      assert.deepEqual(changes, []);
      assert.equal(await version(lbId), v);
    }

    /** An LB written to the store, without IPs. */
    async function storedLb(over: Partial<Lb> = {}): Promise<Lb> {
      const created = lb(over);
      await store.createLb(created, [], []);
      return created;
    }

    async function storedBackend(lbId: string, over: Partial<Backend> = {}): Promise<Backend> {
      const created = backend(lbId, over);
      await store.createBackend(created);
      return created;
    }

    async function storedFrontend(lbId: string, backendId: string, port: number, over: Partial<Frontend> = {}): Promise<Frontend> {
      const created = frontend(lbId, backendId, port, over);
      await store.createFrontend(created);
      return created;
    }

    const conflict = (what: 'address' | 'inbound_port') => (err: unknown) => err instanceof ConflictError && err.what === what;

    describe('load balancers', () => {
      test('create and get round-trip every field; an unknown id is null', async () => {
        const a = lb({ name: 'a', description: 'd', tags: ['x', 'y'], status: 'to_create', sslCompatibilityLevel: 'ssl_compatibility_level_old' });
        assert.deepEqual(await notified(() => store.createLb(a, [], [])), [a.id]);
        assert.deepEqual(await store.getLb(a.id), a);
        assert.equal(await store.getLb(randomUUID()), null);
        assert.deepEqual(await store.allLbIds(), [a.id]);
      });

      test('create with new IPs stores them attached; with existing IPs attaches them', async () => {
        const free = ip();
        await store.createIp(free);
        const a = lb();
        const fresh = ip({ lbId: a.id, address: nextAddress(true) });
        await store.createLb(a, [free.id], [fresh]);
        const attached = await store.ipsOfLb(a.id);
        assert.deepEqual(attached.map((i) => i.id), [free.id, fresh.id]);
        assert.ok(attached.every((i) => i.lbId === a.id));
        assert.deepEqual(await store.getIp(fresh.id), fresh);
        const used = await store.usedAddresses();
        assert.ok(used.has(free.address) && used.has(fresh.address));
        assert.deepEqual((await store.snapshot(a.id))?.addresses, [free.address, fresh.address]);
      });

      test('a new IP whose address is taken is a ConflictError and nothing is written', async () => {
        const taken = ip();
        await store.createIp(taken);
        const a = lb();
        changes = [];
        await assert.rejects(store.createLb(a, [], [ip({ lbId: a.id, address: taken.address })]), conflict('address'));
        assert.deepEqual(changes, []);
        assert.equal(await store.getLb(a.id), null);
        assert.deepEqual(await store.ipsOfLb(a.id), []);
        assert.deepEqual(await store.allLbIds(), []);
      });

      test('list filters: zone, name substring, project, organization, visible projects, tags (all, exact)', async () => {
        const a = lb({ name: 'web-a', tags: ['web', 'prod'] });
        const b = lb({ name: 'my-web-b', tags: ['web'], projectId: P2, organizationId: P2 });
        const c = lb({ name: 'db', tags: ['db', 'prod'] });
        const d = lb({ name: 'web-ams', zone: 'nl-ams-1', tags: ['web'] });
        for (const x of [a, b, c, d]) await store.createLb(x, [], []);
        const ids = async (f: Partial<Parameters<Store['listLbs']>[0]>) =>
          (await store.listLbs({ zone: 'fr-par-1', ...f }, page())).items.map((x) => x.id);
        assert.deepEqual(await ids({}), [a.id, b.id, c.id]);
        assert.deepEqual(await ids({ zone: 'nl-ams-1' }), [d.id]);
        assert.deepEqual(await ids({ name: 'web' }), [a.id, b.id]);
        assert.deepEqual(await ids({ name: 'WEB' }), [], 'the name filter is case-sensitive');
        assert.deepEqual(await ids({ projectId: P2 }), [b.id]);
        assert.deepEqual(await ids({ organizationId: P1 }), [a.id, c.id]);
        assert.deepEqual(await ids({ projectIds: [P2] }), [b.id]);
        assert.deepEqual(await ids({ projectIds: [] }), []);
        assert.deepEqual(await ids({ tags: ['web'] }), [a.id, b.id]);
        assert.deepEqual(await ids({ tags: ['web', 'prod'] }), [a.id]);
        assert.deepEqual(await ids({ tags: ['pro'] }), []);
        assert.deepEqual(await ids({ ids: [c.id, a.id, d.id] }), [a.id, c.id]);
        assert.deepEqual(await ids({ ids: [] }), []);
        assert.deepEqual((await store.listLbs({ zone: 'fr-par-1', name: 'web' }, page())).items, [a, b]);
        assert.deepEqual((await store.allLbIds()).sort(), [a.id, b.id, c.id, d.id].sort());
      });

      test('list order and paging, with an unpaginated total; creation ties keep insertion order', async () => {
        const t = at();
        const made = ['charlie', 'alpha', 'bravo', 'alpha'].map((n) => lb({ name: n, createdAt: t, updatedAt: t }));
        const later = lb({ name: 'delta' });
        for (const x of [...made, later]) await store.createLb(x, [], []);
        const [c, a1, b, a2] = made;
        const list = async (orderBy: OrderBy, p = 1, pageSize = 100) => {
          const res = await store.listLbs({ zone: 'fr-par-1' }, page({ orderBy, page: p, pageSize }));
          return { ids: res.items.map((x) => x.id), total: res.total };
        };
        assert.deepEqual((await list('created_at_asc')).ids, [c.id, a1.id, b.id, a2.id, later.id]);
        assert.deepEqual((await list('created_at_desc')).ids, [later.id, a2.id, b.id, a1.id, c.id]);
        assert.deepEqual((await list('name_asc')).ids, [a1.id, a2.id, b.id, c.id, later.id]);
        assert.deepEqual((await list('name_desc')).ids, [later.id, c.id, b.id, a1.id, a2.id]);
        assert.deepEqual(await list('name_asc', 2, 2), { ids: [b.id, c.id], total: 5 });
        assert.deepEqual(await list('name_asc', 3, 2), { ids: [later.id], total: 5 });
        assert.deepEqual(await list('name_asc', 4, 2), { ids: [], total: 5 });
      });

      test('update stores the new fields, bumps the config version once and notifies', async () => {
        const a = await storedLb();
        const next = { ...a, name: 'renamed', description: 'new', tags: ['t'], sslCompatibilityLevel: 'ssl_compatibility_level_modern' as const, updatedAt: at() };
        await bumpsOnce(a.id, () => store.updateLb(next));
        assert.deepEqual(await store.getLb(a.id), { ...next, configVersion: a.configVersion + 1 });
        // The version is the store's: a caller's stale or made-up version does not matter.
        await bumpsOnce(a.id, () => store.updateLb({ ...next, configVersion: 1000 }));
        assert.equal((await store.listLbs({ zone: 'fr-par-1', name: 'renamed' }, page())).total, 1, 'the name column follows');
      });

      test('update does not undo the lifecycle: a status set meanwhile, or a deletion, stays', async () => {
        const a = await storedLb({ status: 'to_create' });
        const stale = { ...a, name: 'user-edit' };
        await store.setLbStatus(a.id, 'ready');
        await store.updateLb(stale);
        const read = await store.getLb(a.id);
        assert.equal(read?.status, 'ready');
        assert.equal(read?.name, 'user-edit');

        await store.requestLbDeletion(a.id, true);
        await store.updateLb({ ...stale, name: 'late-edit' });
        const deleting = await store.getLb(a.id);
        assert.equal(deleting?.status, 'to_delete');
        assert.equal(deleting?.releaseIpsOnDelete, true);
      });

      test('changeLb applies the change to the LB as stored, keeps the lifecycle, bumps once; a throw changes nothing', async () => {
        const a = await storedLb({ status: 'to_create' });
        const peer = await sut.peer();
        await peer.setLbStatus(a.id, 'ready');
        let seen: Lb | null = null;
        let written: Lb | null = null;
        await bumpsOnce(a.id, async () => {
          written = await store.changeLb(a.id, (current) => { seen = current; return { ...current, name: 'changed', status: 'error', configVersion: 99 }; });
        });
        assert.equal(seen!.status, 'ready', 'the change got the LB as stored');
        assert.deepEqual(written, { ...a, name: 'changed', status: 'ready', configVersion: a.configVersion + 1 });
        assert.deepEqual(await store.getLb(a.id), written);
        const boom = new Error('refused');
        await refusedQuietly(a.id, () => store.changeLb(a.id, () => { throw boom; }), (e) => e === boom);
        assert.equal(await store.changeLb(randomUUID(), (x) => x), null);
      });

      test('changeLbOnNetwork: attaches racing through two handles see each other\'s addresses; other networks do not count', async () => {
        const peer = await sut.peer();
        const pn = { id: 'pn-a', cidr: '172.16.9.0/29' };
        const other = await storedLb({ privateNetworks: [attachedTo('pn-b', '172.16.9.1')] });
        const lbs = await Promise.all(Array.from({ length: 6 }, () => storedLb()));
        const attach = (s: Store, id: string) => s.changeLbOnNetwork(id, pn.id, (current, used) => {
          const address = freeAddress(pn.cidr, new Set(used.keys()));
          if (!address) throw new Error('full');
          return { ...current, privateNetworks: [...(current.privateNetworks ?? []), attachedTo(pn.id, address)] };
        });
        const done = await Promise.all(lbs.map((x, i) => attach(i % 2 ? peer : store, x.id)));
        const addresses = done.map((x) => x!.privateNetworks![0].address);
        assert.deepEqual([...addresses].sort(), ['172.16.9.1', '172.16.9.2', '172.16.9.3', '172.16.9.4', '172.16.9.5', '172.16.9.6']);
        const seen = await store.changeLbOnNetwork(other.id, pn.id, (current, used) => {
          assert.deepEqual(new Map([...used].sort()), new Map(lbs.map((x, i) => [addresses[i], x.id] as const).sort()));
          return current;
        });
        assert.equal(seen?.configVersion, other.configVersion + 1);
        await assert.rejects(attach(peer, (await storedLb()).id), /full/);
        assert.equal(await store.changeLbOnNetwork(randomUUID(), pn.id, (x) => x), null);
      });

      test('setLbStatus changes the status only: no version bump, no notification; a deletion is never undone', async () => {
        const a = await storedLb({ status: 'to_create' });
        assert.deepEqual(await notified(() => store.setLbStatus(a.id, 'creating')), []);
        assert.deepEqual(await store.getLb(a.id), { ...a, status: 'creating' });
        await store.setLbStatus(a.id, 'ready');
        assert.equal((await store.getLb(a.id))?.status, 'ready');
        await store.setLbStatus(randomUUID(), 'ready');

        await store.requestLbDeletion(a.id, false);
        await store.setLbStatus(a.id, 'ready');
        assert.equal((await store.getLb(a.id))?.status, 'to_delete', 'a late status update does not cancel a deletion');
        await store.setLbStatus(a.id, 'deleting');
        assert.equal((await store.getLb(a.id))?.status, 'deleting');
        await store.setLbStatus(a.id, 'error');
        assert.equal((await store.getLb(a.id))?.status, 'deleting');
      });

      test('requestLbDeletion marks the LB to_delete with its IP choice and notifies; a second request changes nothing', async () => {
        const a = await storedLb();
        await bumpsOnce(a.id, () => store.requestLbDeletion(a.id, true));
        const read = await store.getLb(a.id);
        assert.equal(read?.status, 'to_delete');
        assert.equal(read?.releaseIpsOnDelete, true);
        assert.deepEqual(await notified(() => store.requestLbDeletion(a.id, false)), []);
        assert.equal((await store.getLb(a.id))?.releaseIpsOnDelete, true, 'the first request decides');
        assert.deepEqual(await notified(() => store.requestLbDeletion(randomUUID(), true)), []);
      });

      for (const release of [true, false]) {
        test(`delete (release IPs: ${release}) takes the children and ${release ? 'deletes' : 'detaches'} the IPs`, async () => {
          const a = lb();
          const other = lb();
          const v4 = ip({ lbId: a.id });
          const otherIp = ip({ lbId: other.id });
          await store.createLb(a, [], [v4]);
          await store.createLb(other, [], [otherIp]);
          const be = await storedBackend(a.id);
          const fe = await storedFrontend(a.id, be.id, 80);
          const keep = await storedBackend(other.id);

          assert.deepEqual(await notified(() => store.deleteLb(a.id, release)), [a.id]);
          assert.equal(await store.getLb(a.id), null);
          assert.equal(await store.snapshot(a.id), null);
          assert.equal(await store.getBackend(be.id), null);
          assert.equal(await store.getFrontend(fe.id), null);
          assert.deepEqual(await store.frontendsOfBackend(be.id), []);
          assert.deepEqual(await store.allLbIds(), [other.id]);
          if (release) {
            assert.equal(await store.getIp(v4.id), null);
            assert.ok(!(await store.usedAddresses()).has(v4.address));
          } else {
            const kept = await store.getIp(v4.id);
            assert.deepEqual({ ...kept, updatedAt: v4.updatedAt }, { ...v4, lbId: null });
            assert.ok((await store.usedAddresses()).has(v4.address));
          }
          assert.deepEqual(await store.getBackend(keep.id), keep, 'other LBs are untouched');
          assert.deepEqual((await store.getIp(otherIp.id))?.lbId, other.id);
          assert.equal((await store.listBackends({ lbId: a.id }, page())).total, 0);
        });
      }

      test('snapshot: the LB, its addresses and its children in creation order, as last written', async () => {
        const a = lb();
        const v4 = ip({ lbId: a.id });
        const v6 = ip({ lbId: a.id, address: nextAddress(true) });
        await store.createLb(a, [], [v4, v6]);
        const b1 = await storedBackend(a.id, { name: 'z' });
        const b2 = await storedBackend(a.id, { name: 'a' });
        const f1 = await storedFrontend(a.id, b2.id, 443);
        const f2 = await storedFrontend(a.id, b1.id, 80);
        const b1b = { ...b1, pool: ['10.9.9.9'], updatedAt: at() };
        await store.updateBackend(b1b);
        const other = await storedLb();
        await store.createBackend(backend(other.id));

        const snap = await store.snapshot(a.id);
        assert.ok(snap);
        assert.deepEqual(snap.lb, await store.getLb(a.id));
        assert.equal(snap.lb.configVersion, a.configVersion + 5);
        assert.deepEqual(snap.addresses, [v4.address, v6.address]);
        assert.deepEqual(snap.backends, [b1b, b2]);
        assert.deepEqual(snap.frontends, [f1, f2]);
        assert.equal(await store.snapshot(randomUUID()), null);
      });
    });

    describe('flexible IPs', () => {
      test('create, get, list with filters, order and paging', async () => {
        const a = ip({ tags: ['x', 'y'] });
        const b = ip({ address: nextAddress(true), tags: ['x'] });
        const c = ip({ projectId: P2, organizationId: P2 });
        const d = ip({ zone: 'nl-ams-1' });
        for (const x of [a, b, c, d]) assert.deepEqual(await notified(() => store.createIp(x)), []);
        assert.deepEqual(await store.getIp(a.id), a);
        assert.equal(await store.getIp(randomUUID()), null);
        const ids = async (f: Partial<Parameters<Store['listIps']>[0]>, p = page()) =>
          (await store.listIps({ zone: 'fr-par-1', ...f }, p)).items.map((x) => x.id);
        // By address: IPv4 first (a before c), then IPv6.
        assert.deepEqual(await ids({}), [a.id, c.id, b.id]);
        assert.deepEqual(await ids({ zone: 'nl-ams-1' }), [d.id]);
        assert.deepEqual(await ids({ ipType: 'all' }), [a.id, c.id, b.id]);
        assert.deepEqual(await ids({ ipType: 'ipv4' }), [a.id, c.id]);
        assert.deepEqual(await ids({ ipType: 'ipv6' }), [b.id]);
        assert.deepEqual(await ids({ ipAddress: b.address }), [b.id]);
        assert.deepEqual(await ids({ tags: ['x'] }), [a.id, b.id]);
        assert.deepEqual(await ids({ tags: ['x', 'y'] }), [a.id]);
        assert.deepEqual(await ids({ projectId: P2 }), [c.id]);
        assert.deepEqual(await ids({ organizationId: P1 }), [a.id, b.id]);
        assert.deepEqual(await ids({ projectIds: [P1] }), [a.id, b.id]);
        assert.deepEqual(await ids({ projectIds: [] }), []);
        assert.deepEqual(await ids({}, page({ orderBy: 'created_at_desc' })), [a.id, c.id, b.id]);
        const p2 = await store.listIps({ zone: 'fr-par-1' }, page({ page: 2, pageSize: 2 }));
        assert.deepEqual(p2.items, [b]);
        assert.equal(p2.total, 3);
        assert.deepEqual(await store.usedAddresses(), new Set([a.address, b.address, c.address, d.address]));
      });

      test('listed by address in numeric order, IPv4 before IPv6, whatever the creation order', async () => {
        const addresses = ['2001:db8::1', '198.51.100.20', '203.0.113.1', '198.51.100.3', '2001:db8::a:0', '2001:db8::b'];
        const created = addresses.map((address) => ip({ zone: 'pl-waw-1', address }));
        for (const x of created) await store.createIp(x);
        const listed = (await store.listIps({ zone: 'pl-waw-1' }, page())).items.map((x) => x.address);
        assert.deepEqual(listed, ['198.51.100.3', '198.51.100.20', '203.0.113.1', '2001:db8::1', '2001:db8::b', '2001:db8::a:0']);
      });

      test('an address is unique across zones: ConflictError, nothing written', async () => {
        const a = ip();
        await store.createIp(a);
        const dup = ip({ address: a.address, zone: 'nl-ams-1' });
        await assert.rejects(store.createIp(dup), conflict('address'));
        assert.equal(await store.getIp(dup.id), null);
      });

      test('attaching, moving and detaching an IP bumps and notifies the LBs it was and is attached to', async () => {
        const a = await storedLb();
        const b = await storedLb();
        const x = ip();
        await store.createIp(x);
        const va = await version(a.id);
        const vb = await version(b.id);

        assert.deepEqual(await notified(() => store.updateIp({ ...x, lbId: a.id }, null)), [a.id]);
        assert.equal(await version(a.id), va + 1);
        assert.deepEqual((await store.ipsOfLb(a.id)).map((i) => i.id), [x.id]);

        assert.deepEqual((await notified(() => store.updateIp({ ...x, lbId: b.id }, a.id))).sort(), [a.id, b.id].sort());
        assert.equal(await version(a.id), va + 2);
        assert.equal(await version(b.id), vb + 1);
        assert.deepEqual(await store.ipsOfLb(a.id), []);
        assert.deepEqual((await store.ipsOfLb(b.id)).map((i) => i.id), [x.id]);

        const renamed = { ...x, lbId: b.id, reverse: 'other.example.com', tags: ['t'], updatedAt: at() };
        assert.deepEqual(await notified(() => store.updateIp(renamed, b.id)), [b.id]);
        assert.deepEqual(await store.getIp(x.id), renamed);

        const free = ip();
        await store.createIp(free);
        assert.deepEqual(await notified(() => store.updateIp({ ...free, reverse: 'free.example.com' }, null)), []);
        assert.equal((await store.getIp(free.id))?.reverse, 'free.example.com');
      });

      test('delete frees the address', async () => {
        const a = ip();
        await store.createIp(a);
        await store.deleteIp(a.id);
        assert.equal(await store.getIp(a.id), null);
        assert.ok(!(await store.usedAddresses()).has(a.address));
        await store.createIp(ip({ address: a.address }));
      });
    });

    describe('backends', () => {
      test('create, get, update, delete: each write bumps the LB once and notifies it', async () => {
        const a = await storedLb();
        const be = backend(a.id, { name: 'web', cookieName: 'SRV', stickySessions: 'cookie', timeoutQueueMs: 0, maxConnections: 0 });
        await bumpsOnce(a.id, () => store.createBackend(be));
        assert.deepEqual(await store.getBackend(be.id), be);
        assert.equal(await store.getBackend(randomUUID()), null);
        assert.equal(await store.countBackends(a.id), 1);

        const next: Backend = { ...be, name: 'api', pool: [], healthCheck: { ...be.healthCheck, config: { kind: 'redis' } }, updatedAt: at() };
        await bumpsOnce(a.id, () => store.updateBackend(next));
        assert.deepEqual(await store.getBackend(be.id), next);
        assert.deepEqual((await store.listBackends({ lbId: a.id, name: 'api' }, page())).items, [next], 'the name column follows');

        await bumpsOnce(a.id, () => store.deleteBackend(be.id));
        assert.equal(await store.getBackend(be.id), null);
        assert.equal(await store.countBackends(a.id), 0);
        assert.deepEqual(await notified(() => store.deleteBackend(be.id)), [], 'deleting a missing backend is a no-op');
      });

      test('a backend of an unknown LB is refused', async () => {
        const orphan = backend(randomUUID());
        await assert.rejects(store.createBackend(orphan));
        assert.equal(await store.getBackend(orphan.id), null);
      });

      test('list: by LB, name substring, order and paging with an unpaginated total', async () => {
        const a = await storedLb();
        const other = await storedLb();
        const t = at();
        const [w2, api, w1] = ['web-2', 'api', 'web-1'].map((n) => backend(a.id, { name: n, createdAt: t, updatedAt: t }));
        for (const x of [w2, api, w1]) await store.createBackend(x);
        await store.createBackend(backend(other.id, { name: 'web-other' }));
        const ids = async (name: string | undefined, p: Page) => {
          const res = await store.listBackends({ lbId: a.id, name }, p);
          return { ids: res.items.map((x) => x.id), total: res.total };
        };
        assert.deepEqual(await ids(undefined, page()), { ids: [w2.id, api.id, w1.id], total: 3 });
        assert.deepEqual(await ids('web', page()), { ids: [w2.id, w1.id], total: 2 });
        assert.deepEqual(await ids(undefined, page({ orderBy: 'name_asc' })), { ids: [api.id, w1.id, w2.id], total: 3 });
        assert.deepEqual(await ids(undefined, page({ orderBy: 'name_desc' })), { ids: [w2.id, w1.id, api.id], total: 3 });
        assert.deepEqual(await ids(undefined, page({ orderBy: 'created_at_desc' })), { ids: [w1.id, api.id, w2.id], total: 3 });
        assert.deepEqual(await ids(undefined, page({ page: 2, pageSize: 2 })), { ids: [w1.id], total: 3 });
      });
    });

    describe('frontends', () => {
      test('create, get, update, delete: each write bumps the LB once and notifies it', async () => {
        const a = await storedLb();
        const b1 = await storedBackend(a.id);
        const b2 = await storedBackend(a.id);
        const fe = frontend(a.id, b1.id, 80, { timeoutClientMs: 1000, connectionRateLimit: 5 });
        await bumpsOnce(a.id, () => store.createFrontend(fe));
        assert.deepEqual(await store.getFrontend(fe.id), fe);
        assert.equal(await store.getFrontend(randomUUID()), null);
        assert.equal(await store.countFrontends(a.id), 1);
        assert.deepEqual(await store.frontendsOfBackend(b1.id), [fe]);

        const moved = { ...fe, backendId: b2.id, inboundPort: 8080, name: 'moved', updatedAt: at() };
        await bumpsOnce(a.id, () => store.updateFrontend(moved));
        assert.deepEqual(await store.getFrontend(fe.id), moved);
        assert.deepEqual(await store.frontendsOfBackend(b1.id), []);
        assert.deepEqual(await store.frontendsOfBackend(b2.id), [moved]);
        assert.deepEqual((await store.listFrontends({ lbId: a.id, name: 'mov' }, page())).items, [moved]);

        await bumpsOnce(a.id, () => store.deleteFrontend(fe.id));
        assert.equal(await store.getFrontend(fe.id), null);
        assert.equal(await store.countFrontends(a.id), 0);
        assert.deepEqual(await notified(() => store.deleteFrontend(fe.id)), []);
      });

      test('a port is unique per LB: ConflictError on create and update, nothing changed; other LBs may use it', async () => {
        const a = await storedLb();
        const b = await storedLb();
        const ba = await storedBackend(a.id);
        const bb = await storedBackend(b.id);
        const holder = await storedFrontend(a.id, ba.id, 80);
        const other = await storedFrontend(a.id, ba.id, 81);

        const clash = frontend(a.id, ba.id, 80);
        await refusedQuietly(a.id, () => store.createFrontend(clash), conflict('inbound_port'));
        assert.equal(await store.getFrontend(clash.id), null);
        await refusedQuietly(a.id, () => store.updateFrontend({ ...other, inboundPort: 80, name: 'x' }), conflict('inbound_port'));
        assert.deepEqual(await store.getFrontend(other.id), other);

        await store.updateFrontend({ ...holder, name: 'same port' });
        await store.createFrontend(frontend(b.id, bb.id, 80));
        await store.deleteFrontend(holder.id);
        await store.updateFrontend({ ...other, inboundPort: 80 });
        assert.equal((await store.getFrontend(other.id))?.inboundPort, 80, 'a freed port can be taken');
      });

      test('list: by LB, name substring, order and paging', async () => {
        const a = await storedLb();
        const be = await storedBackend(a.id);
        const fs = ['https', 'admin', 'http'].map((n, i) => frontend(a.id, be.id, 100 + i, { name: n }));
        for (const x of fs) await store.createFrontend(x);
        const names = async (p: Page, name?: string) => (await store.listFrontends({ lbId: a.id, name }, p)).items.map((x) => x.name);
        assert.deepEqual(await names(page()), ['https', 'admin', 'http']);
        assert.deepEqual(await names(page(), 'http'), ['https', 'http']);
        assert.deepEqual(await names(page({ orderBy: 'name_asc' })), ['admin', 'http', 'https']);
        assert.deepEqual(await names(page({ orderBy: 'created_at_desc' })), ['http', 'admin', 'https']);
        const p2 = await store.listFrontends({ lbId: a.id }, page({ page: 2, pageSize: 2 }));
        assert.deepEqual(p2.items.map((x) => x.name), ['http']);
        assert.equal(p2.total, 3);
      });
    });

    describe('certificates', () => {
      const certificate = (lbId: string, over: Partial<Certificate> = {}): Certificate => ({
        id: randomUUID(), lbId, name: 'cert', type: 'custom', commonName: 'a.example.com', subjectAlternativeName: [],
        fingerprint: '', notValidBefore: null, notValidAfter: null, status: 'ready', statusDetails: null, pemSha256: 'h1',
        orderActive: false, nextOrderAt: null, createdAt: at(), updatedAt: at(), ...over,
      });

      test('create, get, list, delete change no running config; an update bumps only for the PEM or the ACME order', async () => {
        const a = await storedLb();
        const c = certificate(a.id, { name: 'zz-one' });
        assert.deepEqual(await notified(() => store.createCertificate(c)), []);
        assert.deepEqual(await store.getCertificate(c.id), c);
        assert.equal(await store.getCertificate(randomUUID()), null);
        await store.createCertificate(certificate(a.id, { name: 'other' }));
        assert.deepEqual((await store.listCertificates({ lbId: a.id, name: 'zz' }, page())).items, [c]);
        assert.equal((await store.allCertificates()).length, 2);
        assert.deepEqual(await notified(() => store.updateCertificate({ ...c, name: 'renamed' })), []);
        await bumpsOnce(a.id, () => store.updateCertificate({ ...c, name: 'renamed', pemSha256: 'h2' }));
        await bumpsOnce(a.id, () => store.updateCertificate({ ...c, name: 'renamed', pemSha256: 'h2', orderActive: true }));
        assert.equal((await store.getCertificate(c.id))?.orderActive, true);
        assert.deepEqual(await notified(() => store.deleteCertificate(c.id)), []);
        assert.equal(await store.getCertificate(c.id), null);
      });

      test('changeCertificate applies the change to the certificate as stored; it bumps only for the PEM or the order', async () => {
        const a = await storedLb();
        const c = certificate(a.id);
        await store.createCertificate(c);
        const peer = await sut.peer();
        await peer.updateCertificate({ ...c, status: 'error', statusDetails: 'meanwhile' });
        assert.deepEqual(await notified(() => store.changeCertificate(c.id, (cur) => ({ ...cur, name: 'renamed' }))), []);
        assert.deepEqual(await store.getCertificate(c.id), { ...c, status: 'error', statusDetails: 'meanwhile', name: 'renamed' });
        let written: Certificate | null = null;
        await bumpsOnce(a.id, async () => { written = await store.changeCertificate(c.id, (cur) => ({ ...cur, pemSha256: 'h9' })); });
        assert.equal(written!.pemSha256, 'h9');
        assert.equal(await store.changeCertificate(randomUUID(), (cur) => cur), null);
      });

      test('frontendsOfCertificate finds the frontends naming it; the snapshot and deleteLb carry certificates', async () => {
        const a = await storedLb();
        const be = await storedBackend(a.id);
        const c = certificate(a.id);
        await store.createCertificate(c);
        const fe = await storedFrontend(a.id, be.id, 443, { certificateIds: [c.id] });
        await storedFrontend(a.id, be.id, 80);
        assert.deepEqual(await store.frontendsOfCertificate(c.id), [fe]);
        assert.deepEqual((await store.snapshot(a.id))?.certificates, [c]);
        await store.deleteLb(a.id, true);
        assert.equal(await store.getCertificate(c.id), null);
      });
    });

    describe('subscribers', () => {
      function subscriber(over: Partial<Subscriber> = {}): Subscriber {
        const t = at();
        return { id: randomUUID(), zone: 'fr-par-1', projectId: P1, organizationId: P1, name: 'sub', email: null,
          webhookUri: 'https://hooks.example.com/', createdAt: t, updatedAt: t, ...over };
      }

      test('create, get, list with filters, order and paging, update; no change notification', async () => {
        const a = subscriber({ name: 'alpha' });
        const b = subscriber({ name: 'beta', projectId: P2, organizationId: P2, email: 'ops@example.com', webhookUri: null });
        const c = subscriber({ name: 'alphabet', zone: 'nl-ams-1' });
        assert.deepEqual(await notified(async () => { for (const s of [a, b, c]) await store.createSubscriber(s); }), []);
        assert.deepEqual(await store.getSubscriber(b.id), b);
        assert.equal(await store.getSubscriber(randomUUID()), null);
        const list = (f: Partial<Parameters<Store['listSubscribers']>[0]>, p: Partial<Page> = {}) =>
          store.listSubscribers({ zone: 'fr-par-1', ...f }, page(p));
        assert.deepEqual((await list({})).items, [a, b]);
        assert.deepEqual((await list({ name: 'lph' })).items, [a]);
        assert.deepEqual((await list({ projectIds: [P2] })).items, [b]);
        assert.deepEqual((await list({ projectId: P1 })).items, [a]);
        assert.deepEqual((await list({ organizationId: P2 })).items, [b]);
        assert.deepEqual(await list({}, { orderBy: 'name_desc', pageSize: 1 }), { items: [b], total: 2 });
        const renamed = { ...a, name: 'gamma', webhookUri: 'http://127.0.0.1:9/' };
        assert.deepEqual(await notified(() => store.updateSubscriber(renamed)), []);
        assert.deepEqual(await store.getSubscriber(a.id), renamed);
      });

      test('delete removes it and unsubscribes the LBs that used it, without a version bump', async () => {
        const s = subscriber();
        await store.createSubscriber(s);
        const x = await storedLb();
        await store.updateLb({ ...x, subscriberId: s.id });
        const v = await version(x.id);
        assert.deepEqual(await notified(() => store.deleteSubscriber(s.id)), []);
        assert.equal(await store.getSubscriber(s.id), null);
        assert.equal((await store.getLb(x.id))!.subscriberId, null);
        assert.equal(await version(x.id), v);
      });
    });

    describe('API keys', () => {
      function apiKey(over: Partial<ApiKey> = {}): { key: ApiKey; secret: string } {
        const secret = randomUUID();
        return {
          secret,
          key: { id: randomUUID(), accessKey: newAccessKey(), secretHash: hashSecretKey(secret), projectId: P1, description: 'ci',
            createdAt: at(), revokedAt: null, ...over },
        };
      }

      test('create, find by secret hash (unknown: null), list in creation order; no change notification', async () => {
        const a = apiKey();
        const b = apiKey({ projectId: P2, description: '' });
        assert.deepEqual(await notified(() => store.createApiKey(a.key)), []);
        await store.createApiKey(b.key);
        assert.deepEqual(await store.findApiKey(hashSecretKey(a.secret)), a.key);
        assert.deepEqual(await store.findApiKey(hashSecretKey(b.secret.toUpperCase())), b.key, 'the hash is of the lower-case secret');
        assert.equal(await store.findApiKey(hashSecretKey(randomUUID())), null);
        assert.deepEqual(await store.listApiKeys(), [a.key, b.key]);
      });

      test('revoke by id or by access key: the key no longer authenticates, stays listed, and a second revoke is null', async () => {
        const a = apiKey();
        const b = apiKey();
        await store.createApiKey(a.key);
        await store.createApiKey(b.key);
        const when = at();
        const revoked = await store.revokeApiKey(a.key.id, when);
        assert.deepEqual(revoked, { ...a.key, revokedAt: when });
        assert.deepEqual(await store.revokeApiKey(b.key.accessKey, when), { ...b.key, revokedAt: when });
        assert.equal(await store.findApiKey(a.key.secretHash), null);
        assert.equal(await store.findApiKey(b.key.secretHash), null);
        assert.equal(await store.revokeApiKey(a.key.id, at()), null);
        assert.equal(await store.revokeApiKey('SCWNOSUCHKEY000000000', at()), null);
        assert.deepEqual((await store.listApiKeys()).map((k) => k.revokedAt), [when, when]);
      });

      test('access keys and secret hashes are unique: a duplicate is refused and nothing is written', async () => {
        const a = apiKey();
        await store.createApiKey(a.key);
        await assert.rejects(store.createApiKey(apiKey({ accessKey: a.key.accessKey }).key));
        await assert.rejects(store.createApiKey(apiKey({ secretHash: a.key.secretHash }).key));
        assert.deepEqual(await store.listApiKeys(), [a.key]);
      });

      test('another handle sees a key created or revoked at once (the CLI writes while the server runs)', async () => {
        const peer = await sut.peer();
        const a = apiKey();
        assert.equal(await peer.findApiKey(a.key.secretHash), null);
        await store.createApiKey(a.key);
        assert.deepEqual(await peer.findApiKey(a.key.secretHash), a.key);
        await peer.revokeApiKey(a.key.accessKey, at());
        assert.equal(await store.findApiKey(a.key.secretHash), null);
      });
    });

    describe('routes and ACLs', () => {
      const route = (f: Frontend, backendId: string, value: string): Route => ({ id: randomUUID(), lbId: f.lbId, frontendId: f.id, backendId,
        match: { kind: 'host_header', value, matchSubdomains: false }, createdAt: at(), updatedAt: at() });
      const acl = (f: Frontend, index: number, name = `acl${index}`): Acl => ({ id: randomUUID(), lbId: f.lbId, frontendId: f.id, name,
        description: '', index, action: { type: 'deny', redirect: null }, createdAt: at(), updatedAt: at(),
        match: { ipSubnet: ['10.0.0.0/8'], ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], httpFilterOption: null, invert: false } });

      test('routes: create, get, list by zone, project and frontend, update, delete, count; each write bumps the LB once', async () => {
        const a = await storedLb();
        const other = await storedLb({ projectId: P2, organizationId: P2 });
        const [b1, b2] = [await storedBackend(a.id), await storedBackend(a.id)];
        const [f1, f2] = [await storedFrontend(a.id, b1.id, 80), await storedFrontend(a.id, b1.id, 81)];
        const ob = await storedBackend(other.id);
        const of = await storedFrontend(other.id, ob.id, 80);
        const r1 = route(f1, b2.id, 'a.test');
        await bumpsOnce(a.id, () => store.createRoute(r1));
        const r2 = route(f2, b2.id, 'b.test');
        const r3 = route(of, ob.id, 'c.test');
        await store.createRoute(r2);
        await store.createRoute(r3);
        assert.deepEqual(await store.getRoute(r1.id), r1);
        assert.equal(await store.getRoute(randomUUID()), null);
        const ids = async (f: Partial<Parameters<Store['listRoutes']>[0]>, p = page()) =>
          (await store.listRoutes({ zone: 'fr-par-1', ...f }, p)).items.map((r) => r.id);
        assert.deepEqual(await ids({}), [r1.id, r2.id, r3.id]);
        assert.deepEqual(await ids({ frontendId: f2.id }), [r2.id]);
        assert.deepEqual(await ids({ projectIds: [P2] }), [r3.id]);
        assert.deepEqual(await ids({ zone: 'nl-ams-1' }), []);
        assert.deepEqual(await ids({}, page({ orderBy: 'created_at_desc', pageSize: 2 })), [r3.id, r2.id]);
        assert.equal((await store.listRoutes({ zone: 'fr-par-1' }, page({ pageSize: 1 }))).total, 3);
        assert.deepEqual(await store.routesOfFrontend(f1.id), [r1]);
        assert.deepEqual(await store.routesOfBackend(b2.id), [r1, r2]);
        assert.equal(await store.countRoutes(a.id), 2);

        const moved = { ...r1, backendId: b1.id, match: { kind: 'path_begin' as const, value: '/x', matchSubdomains: false }, updatedAt: at() };
        await bumpsOnce(a.id, () => store.updateRoute(moved));
        assert.deepEqual(await store.getRoute(r1.id), moved);
        assert.deepEqual(await store.routesOfBackend(b1.id), [moved]);
        await bumpsOnce(a.id, () => store.deleteRoute(r1.id));
        assert.equal(await store.getRoute(r1.id), null);
        assert.deepEqual(await notified(() => store.deleteRoute(r1.id)), []);
        assert.equal(await store.countRoutes(a.id), 1);
      });

      test('ACLs: create, get, list with name filter, update, delete; setAcls replaces all at once', async () => {
        const a = await storedLb();
        const b = await storedBackend(a.id);
        const [f1, f2] = [await storedFrontend(a.id, b.id, 80), await storedFrontend(a.id, b.id, 81)];
        const x = acl(f1, 2, 'block');
        await bumpsOnce(a.id, () => store.createAcl(x));
        const y = acl(f1, 1, 'allow');
        const z = acl(f2, 1);
        await store.createAcl(y);
        await store.createAcl(z);
        assert.deepEqual(await store.getAcl(x.id), x);
        assert.equal(await store.getAcl(randomUUID()), null);
        assert.deepEqual((await store.listAcls({ frontendId: f1.id }, page())).items, [x, y]);
        assert.deepEqual((await store.listAcls({ frontendId: f1.id, name: 'llo' }, page())).items, [y]);
        assert.deepEqual((await store.listAcls({ frontendId: f1.id }, page({ orderBy: 'name_asc' }))).items, [y, x]);
        assert.deepEqual(await store.aclsOfFrontend(f2.id), [z]);
        const x2 = { ...x, index: 9, updatedAt: at() };
        await bumpsOnce(a.id, () => store.updateAcl(x2));
        assert.deepEqual(await store.getAcl(x.id), x2);

        const fresh = [acl(f1, 5), acl(f1, 6)];
        await bumpsOnce(a.id, () => store.setAcls(f1.id, a.id, fresh));
        assert.deepEqual(await store.aclsOfFrontend(f1.id), fresh);
        assert.equal(await store.getAcl(x.id), null);
        assert.deepEqual(await store.aclsOfFrontend(f2.id), [z], 'other frontends keep theirs');
        await bumpsOnce(a.id, () => store.deleteAcl(fresh[0].id));
        assert.deepEqual(await store.aclsOfFrontend(f1.id), [fresh[1]]);
        assert.deepEqual(await notified(() => store.deleteAcl(fresh[0].id)), []);
      });

      test('the snapshot carries routes and ACLs; deleting a frontend or the LB deletes them', async () => {
        const a = await storedLb();
        const b = await storedBackend(a.id);
        const f = await storedFrontend(a.id, b.id, 80);
        const r = route(f, b.id, 'a.test');
        const x = acl(f, 0);
        await store.createRoute(r);
        await store.createAcl(x);
        const snap = await store.snapshot(a.id);
        assert.deepEqual(snap?.routes, [r]);
        assert.deepEqual(snap?.acls, [x]);
        await bumpsOnce(a.id, () => store.deleteFrontend(f.id));
        assert.equal(await store.getRoute(r.id), null);
        assert.equal(await store.getAcl(x.id), null);
        assert.equal(await store.countRoutes(a.id), 0);

        const f2 = await storedFrontend(a.id, b.id, 81);
        await store.createRoute(route(f2, b.id, 'b.test'));
        await store.createAcl(acl(f2, 0));
        await store.deleteLb(a.id, true);
        assert.deepEqual((await store.listRoutes({ zone: 'fr-par-1' }, page())).items, []);
      });
    });

    describe('limits and concurrent writers (two handles)', () => {
      const limit = (what: LimitError['what']) => (err: unknown) => err instanceof LimitError && err.what === what;

      /** Settles every write; the rejections, in order. */
      async function settle(writes: Promise<unknown>[]): Promise<unknown[]> {
        return (await Promise.allSettled(writes)).filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
      }

      test(`${2 * 200} backends created at once through two handles end at exactly ${STORE_LIMITS.backends}; the rest are LimitErrors`, async () => {
        const peer = await sut.peer();
        const a = await storedLb();
        const writes = [store, peer].flatMap((s) => Array.from({ length: 200 }, () => s.createBackend(backend(a.id))));
        const refused = await settle(writes);
        assert.equal(refused.length, 400 - STORE_LIMITS.backends);
        assert.ok(refused.every(limit('backends')), String(refused.find((e) => !limit('backends')(e))));
        assert.equal(await store.countBackends(a.id), STORE_LIMITS.backends);
        assert.equal(await version(a.id), a.configVersion + STORE_LIMITS.backends, 'one bump per backend written, none lost');
        await refusedQuietly(a.id, () => store.createBackend(backend(a.id)), limit('backends'));
      });

      test('frontends: past the limit a LimitError; two handles racing for one port: one wins, one ConflictError', async () => {
        const peer = await sut.peer();
        const a = await storedLb();
        const be = await storedBackend(a.id);
        const refused = await settle([store, peer].map((s) => s.createFrontend(frontend(a.id, be.id, 443))));
        assert.equal(refused.length, 1);
        assert.ok(conflict('inbound_port')(refused[0]));
        assert.equal(await store.countFrontends(a.id), 1);
        for (let port = 1; port < STORE_LIMITS.frontends; port++) await store.createFrontend(frontend(a.id, be.id, port));
        await refusedQuietly(a.id, () => peer.createFrontend(frontend(a.id, be.id, 9999)), limit('frontends'));
      });

      test('ACLs: past the per-frontend limit a LimitError, nothing written', async () => {
        const a = await storedLb();
        const be = await storedBackend(a.id);
        const fe = await storedFrontend(a.id, be.id, 80);
        const t = at();
        const acl = (i: number): Acl => ({ id: randomUUID(), lbId: a.id, frontendId: fe.id, name: `a${i}`, description: '', index: i,
          action: { type: 'allow', redirect: null }, createdAt: t, updatedAt: t,
          match: { ipSubnet: ['10.0.0.0/8'], ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], httpFilterOption: null, invert: false } });
        await store.setAcls(fe.id, a.id, Array.from({ length: STORE_LIMITS.acls - 1 }, (_, i) => acl(i)));
        const peer = await sut.peer();
        const refused = await settle([store.createAcl(acl(5000)), peer.createAcl(acl(5001))]);
        assert.equal(refused.length, 1);
        assert.ok(limit('acls')(refused[0]));
        assert.equal((await store.aclsOfFrontend(fe.id)).length, STORE_LIMITS.acls);
      });

      test('changeBackend applies the change to the stored backend; concurrent add-servers from two handles keep every address', async () => {
        const peer = await sut.peer();
        const a = await storedLb();
        const be = await storedBackend(a.id, { pool: [] });
        const add = (s: Store, address: string) => s.changeBackend(be.id, (cur) => ({ ...cur, pool: [...cur.pool, address] }));
        const addresses = Array.from({ length: 100 }, (_, i) => `10.20.${i >> 8}.${i & 255}`);
        const v = await version(a.id);
        await Promise.all(addresses.map((address, i) => add(i % 2 ? peer : store, address)));
        const stored = await store.getBackend(be.id);
        assert.deepEqual([...stored!.pool].sort(), [...addresses].sort());
        assert.equal(await version(a.id), v + addresses.length);

        assert.deepEqual(await notified(() => add(store, '10.30.0.1')), [a.id]);
        const boom = new Error('refused by the change');
        await refusedQuietly(a.id, () => store.changeBackend(be.id, () => { throw boom; }), (e) => e === boom);
        assert.equal((await store.getBackend(be.id))!.pool.length, 101);
        assert.equal(await store.changeBackend(randomUUID(), (cur) => cur), null);
      });

      test('concurrent IP creates from two handles never store one address twice', async () => {
        const peer = await sut.peer();
        // 2 × 30 creates over 20 addresses: at most 20 succeed, the rest are ConflictErrors.
        const pool = Array.from({ length: 20 }, (_, i) => `10.40.0.${i + 1}`);
        const writes = [store, peer].flatMap((s) => Array.from({ length: 30 }, (_, i) => s.createIp(ip({ address: pool[i % 20] }))));
        const refused = await settle(writes);
        assert.ok(refused.every(conflict('address')));
        assert.equal(refused.length, 60 - 20);
        const listed = (await store.listIps({ zone: 'fr-par-1' }, page())).items.map((x) => x.address);
        assert.deepEqual([...listed].sort(), [...pool].sort());
      });
    });

    describe('commit, listeners and settings', () => {
      test('listeners run after commit: another handle already sees the write', async () => {
        const peer = await sut.peer();
        const a = await storedLb();
        const be = backend(a.id);
        const seen: Promise<Backend | null>[] = [];
        store.onChange(() => { seen.push(peer.getBackend(be.id)); });
        await store.createBackend(be);
        assert.equal(seen.length, 1);
        assert.deepEqual(await seen[0], be);
        // …and the acknowledged write is visible to the other handle at once.
        const next = { ...be, pool: ['10.1.2.3'] };
        await store.updateBackend(next);
        assert.deepEqual(await peer.getBackend(be.id), next);
        assert.deepEqual(await seen[1], next);
      });

      test('settings: unset is null; set overwrites', async () => {
        assert.equal(await store.getSetting('k'), null);
        await store.setSetting('k', 'v1');
        assert.equal(await store.getSetting('k'), 'v1');
        await store.setSetting('k', 'v2');
        assert.equal(await store.getSetting('k'), 'v2');
        assert.deepEqual(await notified(() => store.setSetting('k', 'v3')), []);
      });

      test('initSetting: the first value stored wins, also between two handles at once', async () => {
        const peer = await sut.peer();
        const [x, y] = await Promise.all([store.initSetting('first', 'x'), peer.initSetting('first', 'y')]);
        assert.equal(x, y);
        assert.ok(x === 'x' || x === 'y');
        assert.equal(await store.initSetting('first', 'z'), x);
        assert.equal(await peer.getSetting('first'), x);
      });
    });
  });
}
