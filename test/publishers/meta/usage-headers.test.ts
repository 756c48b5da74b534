import { describe, expect, it } from 'vitest';
import { metaRetryAfterMs, SATURATED_WITHOUT_ESTIMATE_MS, usageRetryAfterMs } from '../../../src/publishers/meta/usage-headers.js';

const json = (value: unknown): string => JSON.stringify(value);

describe('Meta usage headers → retryAfterMs', () => {
  it('reads estimated_time_to_regain_access (minutes) from X-Business-Use-Case-Usage, taking the longest', () => {
    const headers = new Headers({
      'x-business-use-case-usage': json({
        'page-1': [{ type: 'pages', call_count: 100, total_cputime: 5, total_time: 5, estimated_time_to_regain_access: 12 }],
        'biz-9': [
          { type: 'pages', call_count: 40, total_cputime: 1, total_time: 1, estimated_time_to_regain_access: 0 },
          { type: 'instagram', call_count: 100, total_cputime: 1, total_time: 1, estimated_time_to_regain_access: 30 },
        ],
      }),
    });
    expect(usageRetryAfterMs(headers)).toBe(30 * 60_000);
  });

  it('reads the estimate from X-Page-Usage too', () => {
    const headers = new Headers({
      'x-page-usage': json({ call_count: 100, total_cputime: 10, total_time: 10, estimated_time_to_regain_access: 3 }),
    });
    expect(usageRetryAfterMs(headers)).toBe(3 * 60_000);
  });

  it('waits a few minutes when X-App-Usage is saturated but gives no estimate', () => {
    const headers = new Headers({ 'x-app-usage': json({ call_count: 101, total_cputime: 20, total_time: 30 }) });
    expect(usageRetryAfterMs(headers)).toBe(SATURATED_WITHOUT_ESTIMATE_MS);
    expect(SATURATED_WITHOUT_ESTIMATE_MS).toBe(5 * 60_000);
  });

  it('says nothing below 100 % or without usable headers', () => {
    expect(usageRetryAfterMs(new Headers({ 'x-app-usage': json({ call_count: 99, total_cputime: 50, total_time: 80 }) }))).toBeUndefined();
    expect(usageRetryAfterMs(new Headers({ 'x-business-use-case-usage': 'not json' }))).toBeUndefined();
    expect(usageRetryAfterMs(new Headers())).toBeUndefined();
  });

  it('falls back to a standard Retry-After', () => {
    expect(metaRetryAfterMs(new Headers({ 'retry-after': '90' }))).toBe(90_000);
    const both = new Headers({ 'retry-after': '90', 'x-page-usage': json({ call_count: 100, estimated_time_to_regain_access: 2 }) });
    expect(metaRetryAfterMs(both)).toBe(2 * 60_000);
  });
});
