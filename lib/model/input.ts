// Reading API objects that may be anything (a manifest can say `spec: notamap`): accessors
// that never throw, and the report translate fills instead of throwing.
import type { Skipped } from './types.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A value quoted for a message, cut to 60 characters. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function validPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted by object, field, reason; duplicates dropped. */
export function sortNotes(items: readonly Skipped[]): Skipped[] {
  const seen = new Set<string>();
  const out: Skipped[] = [];
  for (const s of items) {
    const k = `${s.object}\u0000${s.field}\u0000${s.reason}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(s);
    }
  }
  return out.sort(
    (a, b) => cmp(a.object, b.object) || cmp(a.field, b.field) || cmp(a.reason, b.reason),
  );
}

/**
 * What translate tells its caller besides the virtual servers: `skip` for input it left out
 * (an object, port, endpoint or address), `warn` for a fallback or an assumption that drops
 * no input (a bad annotation, a policy that leaves a virtual server without real servers).
 */
export class Report {
  private readonly skippedItems: Skipped[] = [];
  private readonly warningItems: Skipped[] = [];
  skip(object: string, field: string, reason: string): void {
    this.skippedItems.push({ object, field, reason });
  }
  warn(object: string, field: string, reason: string): void {
    this.warningItems.push({ object, field, reason });
  }
  skipped(): Skipped[] {
    return sortNotes(this.skippedItems);
  }
  warnings(): Skipped[] {
    return sortNotes(this.warningItems);
  }
}
