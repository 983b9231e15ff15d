// Small TypeBox helpers for string enums, which Ajv reports as one clear `enum` error instead of an anyOf cascade.
import { Type, type TUnsafe } from '@sinclair/typebox';

export function StringEnum<T extends readonly string[]>(values: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
}
