/**
 * Review of 2e57bfb (issue 19): a leased cron whose lease request fails (the database is
 * restarting, a connection reset) must log and skip the tick, as node-cron's distributed mode did
 * ("Run coordinator failed; skipping execution (fail-closed)"). With croner the rejection of
 * `tryAcquire` escapes `fired` into croner's `_trigger`, whose promise nobody awaits: an unhandled
 * rejection, which ends a Node 20 process (--unhandled-rejections=throw is the default; the
 * service installs no handler). Every instance asks at the same tick, so a database blip takes
 * them all down at once.
 */
import { afterEach, expect, it, vi } from 'vitest';
import type { Leases } from '../../src/db/leases.js';
import { LeasedCron } from '../../src/jobs/cron.js';
import { createLogger } from '../../src/observability/logger.js';

const escaped: unknown[] = [];
const onUnhandled = (reason: unknown) => escaped.push(reason);

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  vi.useRealTimers();
});

it('a failed lease request is logged and skipped, not left as an unhandled rejection', async () => {
  process.on('unhandledRejection', onUnhandled);
  vi.useFakeTimers({ now: new Date('2026-12-04T15:00:03.000Z') });
  const leases = {
    tryAcquire: () => Promise.reject(new Error('Connection terminated unexpectedly')),
  } as unknown as Leases;
  const cron = new LeasedCron(
    { name: 'test-cron', task: 'test', what: 'test', expression: '*/10 * * * * *', run: () => Promise.resolve({}) },
    leases,
    createLogger('silent'),
    'instance-a',
  );
  await cron.start();
  await vi.advanceTimersByTimeAsync(7_000); // the 15:00:10 tick
  await cron.stop();
  vi.useRealTimers();
  await new Promise((resolve) => setTimeout(resolve, 20)); // let Node report unhandled rejections
  expect(escaped.map(String)).toEqual([]);
});
