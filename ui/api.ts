// The dashboard's API client: the Scaleway routes and Fulcrum's traffic route, with the key the user gave.

export class Unauthorized extends Error {}

export interface Lb { id: string; name: string; status: string; zone: string; ip: { ip_address: string }[];
  instances: { status: string }[] }
export interface Frontend { id: string; name: string; inbound_port: number; backend: { id: string }; enable_access_logs: boolean }
export interface Backend { id: string; name: string; forward_protocol: string; forward_port: number; forward_port_algorithm: string;
  pool: string[]; health_check: Record<string, unknown> }
export interface ServerStat { backend_id: string; ip: string; server_state: string; server_state_changed_at: string | null;
  last_health_check_status: string }
export interface Counters { sessions_total: number; requests_total: number; errors_total: number }
export interface Traffic { running: boolean; read_at: string; frontends: (Counters & { frontend_id: string })[];
  backends: (Counters & { backend_id: string })[]; servers: (Counters & { backend_id: string; ip: string; status: string; weight: number })[] }

export interface Route { id: string; frontend_id: string; backend_id: string; match: Record<string, string | boolean> }

export interface LbView { lb: Lb; frontends: Frontend[]; backends: Backend[]; routes: Route[]; stats: ServerStat[]; traffic: Traffic }

export class Api {
  constructor(private readonly key: string) {}

  private async get<T>(path: string): Promise<T> {
    const r = await fetch(path, { headers: { 'X-Auth-Token': this.key } });
    if (r.status === 401) throw new Unauthorized('the key was refused');
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return r.json() as Promise<T>;
  }

  /** Every item of a paged Scaleway list. */
  private async all<T>(path: string, field: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page <= 100; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const body = await this.get<Record<string, unknown>>(`${path}${sep}page=${page}&page_size=100`);
      const items = body[field] as T[];
      out.push(...items);
      if (items.length < 100 || out.length >= (body.total_count as number)) break;
    }
    return out;
  }

  zones(): Promise<{ zones: string[] }> {
    return this.get('/ui/config.json');
  }

  async view(zones: string[]): Promise<LbView[]> {
    const lbs = (await Promise.all(zones.map((z) => this.all<Lb>(`/lb/v1/zones/${z}/lbs`, 'lbs')))).flat();
    // Routes are listed per zone (one call), then matched to each LB's frontends.
    const routes = (await Promise.all(zones.map((z) => this.all<Route>(`/lb/v1/zones/${z}/routes`, 'routes')))).flat();
    return Promise.all(lbs.map(async (lb) => {
      const base = `/lb/v1/zones/${lb.zone}`;
      const [frontends, backends, stats, traffic] = await Promise.all([
        this.all<Frontend>(`${base}/lbs/${lb.id}/frontends`, 'frontends'),
        this.all<Backend>(`${base}/lbs/${lb.id}/backends`, 'backends'),
        this.all<ServerStat>(`${base}/lbs/${lb.id}/backend-stats`, 'backend_servers_stats'),
        this.get<Traffic>(`/fulcrum/v1/zones/${lb.zone}/lbs/${lb.id}/traffic`),
      ]);
      const mine = new Set(frontends.map((f) => f.id));
      return { lb, frontends, backends, routes: routes.filter((r) => mine.has(r.frontend_id)), stats, traffic };
    }));
  }
}
