// Scaleway's lists embed the parent LB in every item: a page of 20 backends holds the same LB 20 times, about two
// thirds of the answer. Serializing that LB once per answer instead of once per item takes about half off the
// serialization of such a list, which is as costly as reading its rows (docs/benchmarks.md, the control plane).
import { randomUUID } from 'node:crypto';

/** Serialized in place of the shared object, then replaced by its JSON; random per process, so no user string is it. */
const MARK = `\u0000${randomUUID()}`;
const MARK_JSON = JSON.stringify(MARK);

export interface SerializedOnce<T> {
  /** A copy of the value to embed in the items; it serializes as a marker (its own fields are unchanged). */
  embed: T;
  /** JSON.stringify(body), with the value serialized once and written wherever `embed` is. */
  stringify(body: unknown): string;
}

export function serializeOnce<T extends object>(value: T): SerializedOnce<T> {
  const embed = Object.defineProperty({ ...value }, 'toJSON', { value: () => MARK, enumerable: false });
  return {
    embed,
    // A function replacement: the value's JSON may hold `$&` and other patterns that a replacement string would expand.
    stringify: (body) => {
      const text = JSON.stringify(value);
      return JSON.stringify(body).replaceAll(MARK_JSON, () => text);
    },
  };
}

/** An object that serializes as the marker: embed it where a value will be placed later (jsonPieces). */
export function standIn(): object {
  return { toJSON: () => MARK };
}

/** The JSON of `body` cut wherever a stand-in is: joined with a value's JSON, the pieces are the JSON with that value. */
export function jsonPieces(body: unknown): string[] {
  return JSON.stringify(body).split(MARK_JSON);
}
