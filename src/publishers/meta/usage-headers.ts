/**
 * How long to wait after a Meta rate limit, read from the usage headers Meta attaches to its
 * answers (platform-apis.md §1.7): `X-Business-Use-Case-Usage` (Page tokens and Instagram) and
 * `X-Page-Usage` carry `estimated_time_to_regain_access` in minutes; `X-App-Usage` (user and
 * app tokens) carries only percentages of the budget used.
 */
import { retryAfterMs } from '../http.js';
import { asObject, numberField, parseJsonHeader, type JsonObject } from './graph-json.js';

const USAGE_HEADERS = ['x-business-use-case-usage', 'x-page-usage', 'x-app-usage'] as const;
const PERCENT_FIELDS = ['call_count', 'total_cputime', 'total_time'] as const;
/**
 * Meta gives no time for a saturated budget without an estimate (the Platform limit is a
 * rolling hour). A few minutes lets the window roll on without holding the post for an hour.
 */
export const SATURATED_WITHOUT_ESTIMATE_MS = 5 * 60_000;

/** Every usage entry in a header: `X-Business-Use-Case-Usage` is `{ "<id>": [entry, ...] }`. */
function usageEntries(header: unknown): JsonObject[] {
  const object = asObject(header);
  if (!object) return [];
  if (PERCENT_FIELDS.some((field) => field in object) || 'estimated_time_to_regain_access' in object) return [object];
  const entries: JsonObject[] = [];
  for (const value of Object.values(object)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      const entry = asObject(item);
      if (entry) entries.push(entry);
    }
  }
  return entries;
}

/** Milliseconds to wait according to the usage headers, when they say anything about it. */
export function usageRetryAfterMs(headers: Headers): number | undefined {
  let regainMinutes = 0;
  let saturated = false;
  for (const name of USAGE_HEADERS) {
    for (const entry of usageEntries(parseJsonHeader(headers.get(name)))) {
      regainMinutes = Math.max(regainMinutes, numberField(entry, 'estimated_time_to_regain_access') ?? 0);
      if (PERCENT_FIELDS.some((field) => (numberField(entry, field) ?? 0) >= 100)) saturated = true;
    }
  }
  if (regainMinutes > 0) return regainMinutes * 60_000;
  return saturated ? SATURATED_WITHOUT_ESTIMATE_MS : undefined;
}

/** The wait for a rate-limited answer: Meta's usage headers first, then a standard Retry-After. */
export function metaRetryAfterMs(headers: Headers): number | undefined {
  return usageRetryAfterMs(headers) ?? retryAfterMs(headers);
}
