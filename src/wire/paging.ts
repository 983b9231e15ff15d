// List query parameters shared by every list route: page (1-based), page_size (default 20, at most 100), order_by.
import { Type } from '@sinclair/typebox';
import type { OrderBy, Page } from '../store/store.js';
import { StringEnum } from './schema.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
export const ORDER_BY = ['created_at_asc', 'created_at_desc', 'name_asc', 'name_desc'] as const;

const Digits = Type.String({ pattern: '^[0-9]{1,9}$' });

export const PagingQuery = {
  page: Type.Optional(Digits),
  page_size: Type.Optional(Digits),
  order_by: Type.Optional(StringEnum(ORDER_BY)),
};

export function readPage(q: { page?: string; page_size?: string; order_by?: OrderBy }): Page | { arg: string; help: string } {
  const page = q.page === undefined ? 1 : Number(q.page);
  if (page < 1) return { arg: 'page', help: 'must be 1 or more' };
  const pageSize = q.page_size === undefined || q.page_size === '0' ? DEFAULT_PAGE_SIZE : Number(q.page_size);
  if (pageSize > MAX_PAGE_SIZE) return { arg: 'page_size', help: `must be between 1 and ${MAX_PAGE_SIZE}` };
  return { page, pageSize, orderBy: q.order_by ?? 'created_at_asc' };
}

export function listBody(key: string, items: unknown[], total: number): Record<string, unknown> {
  return { [key]: items, total_count: total };
}
