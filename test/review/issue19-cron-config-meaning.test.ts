/**
 * Review of 2e57bfb (issue 19): a CLEANUP_CRON / HEALTH_CRON that node-cron 4.6.0 accepted must
 * keep its meaning under croner. node-cron matches day-of-month AND day-of-week; croner's default
 * (domAndDow: false, legacyMode) matches day-of-month OR day-of-week when neither is `*`. So
 * `0 3 1-7 * 1` ("03:00 on the first Monday of the month", what it meant until now) is accepted
 * as before and silently becomes "03:00 on each of the 1st–7th, and on every Monday".
 */
import { afterEach, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Leases } from '../../src/db/leases.js';
import { LeasedCron } from '../../src/jobs/cron.js';
import { createLogger } from '../../src/observability/logger.js';

process.env.TZ = 'UTC';

afterEach(() => vi.useRealTimers());

async function ticks(expression: string, from: string, days: number): Promise<string[]> {
  vi.useFakeTimers({ now: new Date(from) });
  const names: string[] = [];
  const leases = {
    tryAcquire: (name: string) => (names.push(name.slice('t:'.length)), Promise.resolve(true)),
  } as unknown as Leases;
  const cron = new LeasedCron(
    { name: 'c', task: 't', what: 't', expression, run: () => Promise.resolve({}) },
    leases,
    createLogger('silent'),
    'a',
  );
  await cron.start();
  await vi.advanceTimersByTimeAsync(days * 86_400_000);
  await cron.stop();
  return names;
}

it.each([
  // [expression, from, what node-cron 4.6.0 ran in the 10 days from then (UTC)]
  ['0 3 1-7 * 1', '2026-01-01T00:00:00.000Z', ['2026-01-05T03:00:00.000Z']], // the first Monday
  ['0 3 1-7 * MON', '2026-01-01T00:00:00.000Z', ['2026-01-05T03:00:00.000Z']],
  ['0 0 13 * 5', '2026-02-04T12:00:00.000Z', ['2026-02-13T00:00:00.000Z']], // Friday the 13th
])('%s keeps the meaning it had under node-cron', async (expression, from, expected) => {
  const config = loadConfig({ CLEANUP_CRON: expression });
  expect(await ticks(config.cleanupCron, from, 10)).toEqual(expected);
});
