// The SQL both stores share: list filters, orders and paging over the same columns. Conditions use `?` placeholders;
// a Dialect supplies what SQLite and PostgreSQL spell differently, so that both stores filter and sort alike.
import type { ChildFilter, IpFilter, LbFilter, Page, RouteFilter, SubscriberFilter } from './store.js';

export interface Dialect {
  /** `column` contains the parameter as a substring (case-sensitive). */
  contains(column: string): string;
  /** The row's document lists the parameter in its `tags`. */
  hasTag: string;
  /** The row's address is IPv6. */
  isIpv6: string;
  /** The column that breaks creation-time ties in insertion order. */
  insertion: string;
  /** A text column compared bytewise (names sort the same whatever the database's locale). */
  bytewise(column: string): string;
}

/** A WHERE clause built from optional conditions. */
export class Where {
  readonly parts: string[] = [];
  readonly args: unknown[] = [];
  add(sql: string, ...args: unknown[]): this {
    this.parts.push(sql);
    this.args.push(...args);
    return this;
  }
  in(column: string, values: string[] | undefined): this {
    if (values === undefined) return this;
    if (values.length === 0) return this.add('1 = 0');
    return this.add(`${column} IN (${values.map(() => '?').join(',')})`, ...values);
  }
  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** Objects created in the same millisecond keep their insertion order; equal names list in creation order. */
export function orderSql(d: Dialect, orderBy: Page['orderBy']): string {
  const created = d.bytewise('created_at');
  const name = d.bytewise('name');
  switch (orderBy) {
    case 'created_at_asc': return `${created} ASC, ${d.insertion} ASC`;
    case 'created_at_desc': return `${created} DESC, ${d.insertion} DESC`;
    case 'name_asc': return `${name} ASC, ${created} ASC, ${d.insertion} ASC`;
    case 'name_desc': return `${name} DESC, ${created} ASC, ${d.insertion} ASC`;
  }
}

export const creationOrder = (d: Dialect): string => orderSql(d, 'created_at_asc');

function common(d: Dialect, w: Where, f: { name?: string; projectId?: string; organizationId?: string; tags?: string[] }): Where {
  if (f.name) w.add(d.contains('name'), f.name);
  if (f.projectId) w.add('project_id = ?', f.projectId);
  if (f.organizationId) w.add('organization_id = ?', f.organizationId);
  for (const tag of f.tags ?? []) w.add(d.hasTag, tag);
  return w;
}

export function lbWhere(d: Dialect, f: LbFilter): Where {
  return common(d, new Where().add('zone = ?', f.zone).in('project_id', f.projectIds).in('id', f.ids), f);
}

export function ipWhere(d: Dialect, f: IpFilter): Where {
  const w = new Where().add('zone = ?', f.zone).in('project_id', f.projectIds);
  if (f.ipAddress) w.add('address = ?', f.ipAddress);
  if (f.ipType === 'ipv4') w.add(`NOT (${d.isIpv6})`);
  if (f.ipType === 'ipv6') w.add(d.isIpv6);
  return common(d, w, { ...f, name: undefined });
}

export function subscriberWhere(d: Dialect, f: SubscriberFilter): Where {
  return common(d, new Where().add('zone = ?', f.zone).in('project_id', f.projectIds), f);
}

/** Children of one parent (`lb_id` or `frontend_id`), optionally by name. */
export function childWhere(d: Dialect, parentColumn: 'lb_id' | 'frontend_id', f: ChildFilter | { frontendId: string; name?: string }): Where {
  const parent = 'lbId' in f ? f.lbId : f.frontendId;
  return common(d, new Where().add(`${parentColumn} = ?`, parent), { name: f.name });
}

export function routeWhere(f: RouteFilter): Where {
  const w = new Where().add('zone = ?', f.zone).in('project_id', f.projectIds);
  if (f.frontendId) w.add('frontend_id = ?', f.frontendId);
  return w;
}
