/**
 * Cron expressions as IQSP reads them (CLEANUP_CRON, HEALTH_CRON): checked by config.ts at start,
 * scheduled by cron.ts, both through croner with the same options and the same rewriting.
 */
import { Cron, type CronOptions } from 'croner';

/**
 * What node-cron read in an expression and croner does not, written the way croner reads it, so a
 * CLEANUP_CRON that worked keeps working and meaning the same: full day and month names
 * (`Monday`, `January`) become their three letters, and a range that wraps around (`22-2` hours,
 * `FRI-MON`, `DEC-FEB`) becomes two (`22-23,0-2`).
 */
const FIELD_BOUNDS: ReadonlyArray<readonly [number, number]> = [
  [0, 59], // seconds (6 fields only)
  [0, 59], // minutes
  [0, 23], // hours
  [1, 31], // day of month
  [1, 12], // month
  [0, 7], // day of week (0 and 7: Sunday)
];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FULL_NAME =
  /\b(january|february|march|april|june|july|august|september|october|november|december|sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/gi;

function fieldValue(word: string, field: number): number | undefined {
  if (/^\d+$/.test(word)) return Number(word);
  const names = field === 4 ? MONTHS : field === 5 ? DAYS : [];
  const at = names.indexOf(word.toLowerCase());
  return at < 0 ? undefined : at + (field === 4 ? 1 : 0);
}

export function croneredExpression(expression: string): string {
  const fields = expression
    .trim()
    .replace(FULL_NAME, (name) => name.slice(0, 3))
    .split(/\s+/);
  const first = fields.length === 6 ? 0 : 1;
  return fields
    .map((field, i) => {
      const [min, max] = FIELD_BOUNDS[i + first] ?? [0, 0];
      return field
        .split(',')
        .map((part) => {
          const range = /^(\w+)-(\w+)$/.exec(part);
          if (!range) return part;
          const from = fieldValue(range[1]!, i + first);
          const to = fieldValue(range[2]!, i + first);
          return from !== undefined && to !== undefined && from > to ? `${from}-${max},${min}-${to}` : part;
        })
        .join(',');
    })
    .join(' ');
}

/** How IQSP's crons read an expression: day of month AND day of week when both are given, as node-cron read them. */
export const CRON_OPTIONS: CronOptions = { domAndDow: true };

/** Whether croner reads `expression` (after croneredExpression); a paused job without a function schedules nothing. */
export function cronProblem(expression: string): string | undefined {
  try {
    new Cron(croneredExpression(expression), { ...CRON_OPTIONS, paused: true }).stop();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
