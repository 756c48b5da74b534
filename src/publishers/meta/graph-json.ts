/** Graph API JSON is read with the shared readers (src/publishers/json.ts). */
import { isJsonObject, type JsonObject } from '../json.js';

export type { JsonObject };

export function asObject(value: unknown): JsonObject | undefined {
  return isJsonObject(value) ? value : undefined;
}

export { arrayField, numberField, objectField, stringField } from '../json.js';

/** Parses a JSON header value; Meta's usage headers are JSON objects. */
export function parseJsonHeader(value: string | null): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
