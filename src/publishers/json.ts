/**
 * Readers for platforms' JSON answers: bodies are checked field by field, never cast. Ids
 * sometimes arrive as numbers where strings are documented, so string fields accept both.
 */

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function member(value: unknown, key: string): unknown {
  return isJsonObject(value) ? value[key] : undefined;
}

export function stringField(value: unknown, key: string): string | undefined {
  const inner = member(value, key);
  if (typeof inner === 'string' && inner !== '') return inner;
  if (typeof inner === 'number' && Number.isFinite(inner)) return String(inner);
  return undefined;
}

export function numberField(value: unknown, key: string): number | undefined {
  const inner = member(value, key);
  if (typeof inner === 'number' && Number.isFinite(inner)) return inner;
  if (typeof inner === 'string' && inner.trim() !== '' && Number.isFinite(Number(inner))) return Number(inner);
  return undefined;
}

export function objectField(value: unknown, key: string): JsonObject | undefined {
  const inner = member(value, key);
  return isJsonObject(inner) ? inner : undefined;
}

export function arrayField(value: unknown, key: string): unknown[] {
  const inner = member(value, key);
  return Array.isArray(inner) ? inner : [];
}
