/**
 * Expressions node-cron read and croner does not, rewritten so that they keep their meaning
 * (src/jobs/cron-expression.ts): full names, ranges that wrap around.
 */
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { CRON_OPTIONS, croneredExpression, cronProblem } from '../../src/jobs/cron-expression.js';

const hoursOf = (expression: string, from: string, n: number) =>
  new Cron(croneredExpression(expression), { ...CRON_OPTIONS, paused: true, timezone: 'UTC' })
    .nextRuns(n, from)
    .map((d) => d.getUTCHours());

describe('croneredExpression', () => {
  it('splits a range that wraps around, in any field, with numbers or names', () => {
    expect(croneredExpression('0 22-2 * * *')).toBe('0 22-23,0-2 * * *');
    expect(croneredExpression('0 3 * * FRI-MON')).toBe('0 3 * * 5-7,0-1');
    expect(croneredExpression('*/10 * * DEC-FEB *')).toBe('*/10 * * 12-12,1-2 *');
    expect(croneredExpression('0 0 22-2 * * *')).toBe('0 0 22-23,0-2 * * *');
  });

  it('shortens full day and month names, and leaves the rest as it was', () => {
    expect(croneredExpression('0 3 * January Monday')).toBe('0 3 * Jan Mon');
    expect(croneredExpression('*/10 * * * *')).toBe('*/10 * * * *');
    expect(croneredExpression('0 3 1-7 * MON')).toBe('0 3 1-7 * MON');
  });

  it('keeps the meaning: hourly from 22:00 to 02:00', () => {
    expect(hoursOf('0 22-2 * * *', '2026-12-04T20:30:00Z', 6)).toEqual([22, 23, 0, 1, 2, 22]);
  });

  it('reads day of month AND day of week, as node-cron did: the first Monday of the month', () => {
    const runs = new Cron(croneredExpression('0 3 1-7 * 1'), { ...CRON_OPTIONS, paused: true, timezone: 'UTC' }).nextRuns(
      2,
      '2026-01-01T00:00:00Z',
    );
    expect(runs.map((d) => d.toISOString())).toEqual(['2026-01-05T03:00:00.000Z', '2026-02-02T03:00:00.000Z']);
  });

  it('says why croner cannot read an expression', () => {
    expect(cronProblem('61 * * * *')).toMatch(/minute/);
    expect(cronProblem('*/10 * * * *')).toBeUndefined();
  });
});
