// The addresses load balancers get as flexible IPs, from `--ip-pool` (a CIDR, a range list, or single addresses).
import ipaddr from 'ipaddr.js';
import { ConflictError, type Store } from '../store/store.js';
import { outOfStock } from '../wire/errors.js';

const MAX_POOL = 65_536;
/** Tries at allocating: another writer (a concurrent request, another process) may take a picked address first. */
const ALLOCATE_ATTEMPTS = 10;

export class AddressPool {
  readonly v4: string[] = [];
  readonly v6: string[] = [];

  /** Parses e.g. `127.100.0.0/24`, `127.100.0.1,127.100.0.2,::1`. Host addresses only (no network/broadcast for /31-). */
  constructor(spec: string) {
    for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      const list = part.includes('/') ? expandCidr(part) : [ipaddr.parse(part).toString()];
      for (const a of list) (a.includes(':') ? this.v6 : this.v4).push(a);
    }
    if (this.v4.length + this.v6.length === 0) throw new Error(`--ip-pool ${spec}: no address`);
  }

  /** The first address of the family not in `used` (`random`: any free one), or null when the pool is exhausted. */
  next(family: 'v4' | 'v6', used: Set<string>, random = false): string | null {
    const all = family === 'v4' ? this.v4 : this.v6;
    if (!random) return all.find((a) => !used.has(a)) ?? null;
    const free = all.filter((a) => !used.has(a));
    return free.length ? free[Math.floor(Math.random() * free.length)] : null;
  }

  /**
   * Picks a free address of each family and runs `write` with them. The store refuses an address already taken
   * (ConflictError): then it picks again, at random among the free ones so that racing writers spread out (bounded).
   */
  async allocate<T>(store: Store, families: ('v4' | 'v6')[], write: (addresses: string[]) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const used = await store.usedAddresses();
      const addresses = families.map((fam) => {
        const address = this.next(fam, used, attempt > 0);
        if (!address) throw outOfStock('ip', `the IP pool of this deployment has no free ${fam === 'v4' ? 'IPv4' : 'IPv6'} address`);
        used.add(address);
        return address;
      });
      try {
        return await write(addresses);
      } catch (err) {
        if (!(err instanceof ConflictError && err.what === 'address') || attempt + 1 >= ALLOCATE_ATTEMPTS) throw err;
      }
    }
  }
}

function expandCidr(cidr: string): string[] {
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  if (addr.kind() === 'ipv6') {
    const size = 2 ** Math.min(128 - bits, 16);
    const base = BigInt('0x' + (addr as ipaddr.IPv6).toNormalizedString().split(':').map((h) => h.padStart(4, '0')).join(''));
    const out: string[] = [];
    for (let i = bits === 128 ? 0 : 1; i < size && out.length < MAX_POOL; i++) out.push(v6FromBigInt(base + BigInt(i)));
    return bits === 128 ? [addr.toString()] : out;
  }
  const base = (addr as ipaddr.IPv4).toByteArray().reduce((n, b) => n * 256 + b, 0);
  const size = 2 ** (32 - bits);
  const mask = size - 1;
  const network = base - (base & mask);
  if (bits >= 31) return Array.from({ length: size }, (_, i) => v4FromInt(network + i));
  const out: string[] = [];
  for (let i = 1; i < size - 1 && out.length < MAX_POOL; i++) out.push(v4FromInt(network + i));
  return out;
}

function v4FromInt(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function v6FromBigInt(n: bigint): string {
  const hex = n.toString(16).padStart(32, '0');
  return ipaddr.parse(hex.match(/.{4}/g)!.join(':')).toString();
}
