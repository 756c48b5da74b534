/** X's answers are read with the shared JSON readers; `field` gives an empty object for a missing one. */
import { isJsonObject, objectField, type JsonObject } from '../json.js';

export { arrayField, numberField, stringField } from '../json.js';

export type JsonRecord = JsonObject;

export const isRecord = isJsonObject;

/** `value[key]` as an object, or an empty one. */
export function field(value: unknown, key: string): JsonRecord {
  return objectField(value, key) ?? {};
}
