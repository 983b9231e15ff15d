// The 400 of a per-parent limit, the same whether the API's early count finds it or the store's write transaction
// does (a concurrent writer, possibly another process, took the last place in between).
import type { Problems } from '../wire/common.js';
import { invalidArgument, type ApiError } from '../wire/errors.js';
import { STORE_LIMITS, type LimitError } from '../store/store.js';

const PROBLEMS: Record<LimitError['what'], { argument: string; help: string }> = {
  backends: { argument: 'lb_id', help: `a load balancer holds at most ${STORE_LIMITS.backends} backends` },
  frontends: { argument: 'lb_id', help: `a load balancer holds at most ${STORE_LIMITS.frontends} frontends` },
  acls: { argument: 'frontend_id', help: `a frontend holds at most ${STORE_LIMITS.acls} ACLs` },
};

/** Adds the limit's problem when a parent already holding `count` children has no room for one more. */
export function checkLimit(p: Problems, what: LimitError['what'], count: number): void {
  if (count >= STORE_LIMITS[what]) p.add(PROBLEMS[what].argument, 'constraint', PROBLEMS[what].help);
}

export function limitReached(err: LimitError): ApiError {
  return invalidArgument(PROBLEMS[err.what].argument, 'constraint', PROBLEMS[err.what].help);
}
