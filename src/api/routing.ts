// Route helpers shared by the resource route files.
import { Type } from '@sinclair/typebox';
import type { Page } from '../store/store.js';
import { invalidArgument } from '../wire/errors.js';
import { readPage } from '../wire/paging.js';
import type { OrderBy } from '../store/store.js';

export interface ZoneParams {
  zone: string;
}

/** Repeated query keys (`tags=a&tags=b`) arrive as an array, a single one as a string. */
const Repeated = (maxLength: number, maxItems: number) =>
  Type.Optional(Type.Union([Type.String({ maxLength }), Type.Array(Type.String({ maxLength }), { maxItems })]));
export const Tags = Repeated(128, 50);
export const Ids = Repeated(64, 100);

/** A repeated query key as a list (undefined when absent). */
export function toList(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : [v].flat();
}

export function readListPage(q: { page?: string; page_size?: string; order_by?: OrderBy }): Page {
  const page = readPage(q);
  if ('arg' in page) throw invalidArgument(page.arg, 'constraint', page.help);
  return page;
}
