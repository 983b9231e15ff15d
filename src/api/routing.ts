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
export const Tags = Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Array(Type.String({ maxLength: 128 }), { maxItems: 50 })]));

export function readListPage(q: { page?: string; page_size?: string; order_by?: OrderBy }): Page {
  const page = readPage(q);
  if ('arg' in page) throw invalidArgument(page.arg, 'constraint', page.help);
  return page;
}
