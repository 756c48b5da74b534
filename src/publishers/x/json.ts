/** Narrowing helpers for X's JSON answers, which are read field by field rather than trusted. */

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value[key]` as an object, or an empty one. */
export function field(value: unknown, key: string): JsonRecord {
  const inner = isRecord(value) ? value[key] : undefined;
  return isRecord(inner) ? inner : {};
}

export function stringField(value: unknown, key: string): string | undefined {
  const inner = isRecord(value) ? value[key] : undefined;
  if (typeof inner === 'string' && inner !== '') return inner;
  // X sends ids as strings, but older shapes carry numbers; both are accepted.
  if (typeof inner === 'number' && Number.isFinite(inner)) return String(inner);
  return undefined;
}

export function numberField(value: unknown, key: string): number | undefined {
  const inner = isRecord(value) ? value[key] : undefined;
  if (typeof inner === 'number' && Number.isFinite(inner)) return inner;
  if (typeof inner === 'string' && inner.trim() !== '' && Number.isFinite(Number(inner))) return Number(inner);
  return undefined;
}

export function arrayField(value: unknown, key: string): unknown[] {
  const inner = isRecord(value) ? value[key] : undefined;
  return Array.isArray(inner) ? inner : [];
}
