/**
 * Which tick a leased cron run is for (src/jobs/cron.ts): the scheduled time, also when the timer
 * fires late, so every instance names the same tick and its lease decides who runs it. A fake
 * clock drives croner's timers and Date.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Leases } from '../../src/db/leases.js';
import { LeasedCron } from '../../src/jobs/cron.js';
import { createLogger } from '../../src/observability/logger.js';

let leased: Array<{ name: string; ttlMs: number }>;
let runs: number;
let cron: LeasedCron;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-04T15:00:03.000Z') });
  leased = [];
  runs = 0;
  const leases = {
    tryAcquire: (name: string, _owner: string, ttlMs: number) => {
      leased.push({ name, ttlMs });
      return Promise.resolve(true);
    },
  } as unknown as Leases;
  cron = new LeasedCron(
    {
      name: 'test-cron',
      task: 'test',
      what: 'test',
      expression: '*/10 * * * * *',
      run: () => {
        runs += 1;
        return Promise.resolve({});
      },
    },
    leases,
    createLogger('silent'),
    'instance-a',
  );
});

afterEach(async () => {
  await cron.stop();
  vi.useRealTimers();
});

it('names each run after its scheduled time, with a lease of at least a minute', async () => {
  await cron.start();
  await vi.advanceTimersByTimeAsync(7_000);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(leased.map((l) => l.name)).toEqual(['test:2026-12-04T15:00:10.000Z', 'test:2026-12-04T15:00:20.000Z']);
  expect(leased.every((l) => l.ttlMs >= 60_000)).toBe(true);
  expect(runs).toBe(2);
});

it('a timer that fires late still names the tick it was for, not the time it fired', async () => {
  await cron.start();
  // The clock runs 2.5 s ahead of the timers, as after a stalled event loop.
  vi.setSystemTime(new Date('2026-12-04T15:00:05.500Z'));
  await vi.advanceTimersByTimeAsync(7_000);
  expect(leased.map((l) => l.name)).toEqual(['test:2026-12-04T15:00:10.000Z']);
});

it('runs nothing after stop', async () => {
  await cron.start();
  await cron.stop();
  await vi.advanceTimersByTimeAsync(30_000);
  expect(leased).toEqual([]);
});
