/**
 * Review of 2e57bfb (issue 19): CLEANUP_CRON / HEALTH_CRON values that node-cron 4.6.0 validated
 * and ran (src/config.ts used `cron.validate`) are refused now that the check is "croner can read
 * it": after the upgrade the service stops at start (exit 2, "must be a 5-field cron
 * expression") with a config that worked. node-cron expands wrap-around ranges (`22-2` hours,
 * `DEC-FEB`, `FRI-MON`: expandRange in node-cron's convertRanges), reads full day and month
 * names (`Monday`, `January`), `L-2` (the second-last day of the month) and steps larger than
 * the field (`*\/90` hours: only hour 0); croner 11 throws on each.
 */
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

it.each([
  '0 22-2 * * *', // hourly, 22:00 to 02:00
  '*/10 * * DEC-FEB *',
  '0 3 * * FRI-MON',
  '0 3 * * 6-1',
  '0 3 * * Monday',
  '0 3 * January *',
])('CLEANUP_CRON=%s, which node-cron accepted, is still accepted', (expression) => {
  expect(() => loadConfig({ CLEANUP_CRON: expression, HEALTH_CRON: expression })).not.toThrow();
});

// Decided after the review: these two forms no other cron reads (a step longer than its field,
// an offset from the last day) are refused, with an error that names the variable and says why,
// rather than read the way node-cron happened to read them.
it.each([
  ['0 3 L-2 * *', /day-of-month/],
  ['0 */90 * * *', /steps cannot be greater/],
])('CLEANUP_CRON=%s is refused with a reason', (expression, reason) => {
  expect(() => loadConfig({ CLEANUP_CRON: expression })).toThrow(/CLEANUP_CRON/);
  expect(() => loadConfig({ CLEANUP_CRON: expression })).toThrow(reason);
});
