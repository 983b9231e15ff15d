// Shared wire helpers: TypeBox building blocks for lenient Scaleway-style input, and a collector of argument errors.
import { Type, type TSchema } from '@sinclair/typebox';
import { invalidArguments, type ArgumentError, type ArgumentReason } from './errors.js';
import { parseDuration } from './durations.js';
import { LIMITS } from '../domain/validation.js';

/** Clients send explicit nulls for unset fields (Terraform, the Go SDK): every optional field accepts null. */
export const Nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

/** A duration in either encoding (number of the field's unit, or a string such as "5s", "500ms", "0.500000000s"). */
export const DurationInput = Type.Union([Type.Number(), Type.String({ maxLength: 64 })]);

export const Tags = Nullable(Type.Array(Type.String({ maxLength: LIMITS.tagLength }), { maxItems: LIMITS.tagCount }));

/** Collects the problems of one request so that every bad argument is named in a single 400. */
export class Problems {
  readonly details: ArgumentError[] = [];

  add(argument: string, reason: ArgumentReason, help: string): void {
    this.details.push({ argument_name: argument, reason, help_message: help });
  }

  throwIfAny(): void {
    if (this.details.length) throw invalidArguments(this.details);
  }

  /** Reads a duration field; null/undefined gives `fallback`. */
  duration(arg: string, value: unknown, bareUnit: 'ms' | 's', min: number, fallback: number | null): number | null {
    if (value === null || value === undefined) return fallback;
    const ms = parseDuration(value, bareUnit);
    if (ms === null) {
      this.add(arg, 'format', bareUnit === 'ms'
        ? 'expected milliseconds as a number, or a duration string such as "5s" or "500ms"'
        : 'expected a duration string such as "0.5s" or "500ms", or a number of seconds');
      return fallback;
    }
    if (ms < min || ms > LIMITS.maxDurationMs) {
      this.add(arg, 'constraint', `must be between ${min} ms and ${LIMITS.maxDurationMs} ms`);
      return fallback;
    }
    return ms;
  }

  /**
   * Reads an enum field. Request schemas type enums as plain strings so that a value outside the enum is reported
   * here, together with every other bad value of the request; null/undefined gives `fallback`, and so does a bad value
   * (after naming it).
   */
  oneOf<T extends string>(arg: string, value: string | null | undefined, values: readonly T[], fallback: T): T {
    if (value === null || value === undefined) return fallback;
    if ((values as readonly string[]).includes(value)) return value as T;
    this.add(arg, 'constraint', `must be one of: ${values.join(', ')}`);
    return fallback;
  }

  /** Checks an integer range; returns the value when valid. */
  intRange(arg: string, value: number, min: number, max: number): number {
    if (!Number.isInteger(value) || value < min || value > max) this.add(arg, 'constraint', `must be an integer between ${min} and ${max}`);
    return value;
  }

  text(arg: string, value: string, max: number, required: boolean): string {
    if (required && value.length === 0) this.add(arg, 'required', 'must not be empty');
    else if (value.length > max || /[\u0000-\u001f\u007f]/.test(value)) this.add(arg, 'format', `must be at most ${max} characters, without control characters`);
    return value;
  }

  tags(arg: string, tags: string[] | null | undefined): string[] {
    const list = tags ?? [];
    list.forEach((t, i) => { if (/[\u0000-\u001f\u007f]/.test(t)) this.add(`${arg}.${i}`, 'format', 'tags must not contain control characters'); });
    return list;
  }
}

/** Formats a Date or ISO string as RFC 3339 UTC with microseconds, like the real API's GET responses. */
export function nowIso(): string {
  return new Date().toISOString();
}
