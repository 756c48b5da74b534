import { describe, expect, it } from 'vitest';
import type { FailureClass, PostStatus, TargetStatus } from '../../src/db/schema.js';
import {
  mayRetryReport,
  nextPostState,
  nextTargetState,
  postIsOpen,
  postOutcome,
  postTransition,
  retryableByCommand,
  retryDecision,
  runStart,
  targetTransition,
  type PostEvent,
  type RunStart,
  type TargetEvent,
} from '../../src/core/lifecycle.js';

const TARGET_STATUSES: readonly TargetStatus[] = ['pending', 'queued', 'publishing', 'published', 'failed', 'unconfirmed', 'cancelled'];
const POST_STATUSES: readonly PostStatus[] = [
  'pending_approval',
  'approved',
  'publishing',
  'published',
  'partial',
  'failed',
  'rejected',
  'expired',
  'cancelled',
];

describe('nextTargetState', () => {
  // Every target event and the states it moves a target from (everything else: undefined).
  const table: Array<[TargetEvent, Partial<Record<TargetStatus, TargetStatus>>]> = [
    ['approve', { pending: 'queued' }],
    ['drop', { pending: 'cancelled' }],
    ['cancel', { pending: 'cancelled', queued: 'cancelled' }],
    ['start', { queued: 'publishing', publishing: 'publishing' }],
    ['requeue', { publishing: 'queued' }],
    ['retry', { failed: 'queued' }],
    ['published', { queued: 'published', publishing: 'published' }],
    ['failed', { queued: 'failed', publishing: 'failed' }],
    ['unconfirmed', { queued: 'unconfirmed', publishing: 'unconfirmed' }],
  ];
  for (const [event, moves] of table)
    for (const status of TARGET_STATUSES)
      it(`${event} on a ${status} target → ${moves[status] ?? 'no move'}`, () => {
        expect(nextTargetState({ status, finishedAt: '2026-01-01T00:00:00.000Z' }, event)).toBe(moves[status]);
        expect(targetTransition(event).from.includes(status)).toBe(moves[status] !== undefined);
      });

  it('retry reopens only a failure already said in the thread', () => {
    expect(nextTargetState({ status: 'failed', finishedAt: null }, 'retry')).toBeUndefined();
    expect(nextTargetState({ status: 'failed', finishedAt: '2026-01-01T00:00:00.000Z' }, 'retry')).toBe('queued');
  });

  it('the guards keep the order the UPDATEs name them in', () => {
    expect(targetTransition('cancel').from).toEqual(['pending', 'queued']);
    expect(targetTransition('start').from).toEqual(['queued', 'publishing']);
    expect(targetTransition('published').from).toEqual(['queued', 'publishing']);
  });
});

describe('nextPostState', () => {
  const table: Array<[PostEvent, Partial<Record<PostStatus, PostStatus>>]> = [
    ['approve', { pending_approval: 'approved' }],
    ['reject', { pending_approval: 'rejected' }],
    ['expire', { pending_approval: 'expired' }],
    ['cancel', { pending_approval: 'cancelled' }],
    ['start', { approved: 'publishing' }],
    ['retry', Object.fromEntries(POST_STATUSES.map((s) => [s, 'publishing']))],
  ];
  for (const [event, moves] of table)
    for (const status of POST_STATUSES)
      it(`${event} on a ${status} post → ${moves[status] ?? 'no move'}`, () => {
        expect(nextPostState(status, event)).toBe(moves[status]);
      });

  it('retry has no status guard; the others have one', () => {
    expect(postTransition('retry').from).toBe('any');
    expect(postTransition('approve').from).toEqual(['pending_approval']);
  });

  it('only an approved or publishing post may be ended', () => {
    expect(POST_STATUSES.filter((s) => postIsOpen(s))).toEqual(['approved', 'publishing']);
    expect(postIsOpen(undefined)).toBe(false);
  });
});

describe('postOutcome', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const t = (...statuses: TargetStatus[]) => statuses.map((status) => ({ status, finishedAt: at }));
  const table: Array<[string, TargetStatus[], ReturnType<typeof postOutcome>]> = [
    ['all published', ['published', 'published'], { outcome: 'published', published: 2, counted: 2, unconfirmed: 0, partlyLive: 0 }],
    ['all failed', ['failed', 'failed'], { outcome: 'failed', published: 0, counted: 2, unconfirmed: 0, partlyLive: 0 }],
    ['one of each', ['published', 'failed'], { outcome: 'partial', published: 1, counted: 2, unconfirmed: 0, partlyLive: 0 }],
    [
      'failed and unconfirmed: maybe live',
      ['failed', 'unconfirmed'],
      { outcome: 'partial', published: 0, counted: 2, unconfirmed: 1, partlyLive: 0 },
    ],
    ['only unconfirmed', ['unconfirmed'], { outcome: 'partial', published: 0, counted: 1, unconfirmed: 1, partlyLive: 0 }],
    ['all cancelled', ['cancelled', 'cancelled'], { outcome: 'cancelled', published: 0, counted: 0, unconfirmed: 0, partlyLive: 0 }],
    [
      'published and cancelled',
      ['published', 'cancelled'],
      { outcome: 'published', published: 1, counted: 1, unconfirmed: 0, partlyLive: 0 },
    ],
    ['failed and cancelled', ['failed', 'cancelled'], { outcome: 'failed', published: 0, counted: 1, unconfirmed: 0, partlyLive: 0 }],
    ['one still publishing', ['published', 'publishing'], undefined],
    ['one still queued', ['queued'], undefined],
    ['one still waiting', ['pending', 'published'], undefined],
  ];
  for (const [name, statuses, expected] of table)
    it(name, () => {
      expect(postOutcome(t(...statuses))).toEqual(expected);
    });

  it('counts a failed thread with live parts as partly live: partial, never failed', () => {
    const partly = { status: 'failed' as const, finishedAt: at, liveParts: 1 };
    expect(postOutcome([partly])).toEqual({ outcome: 'partial', published: 0, counted: 1, unconfirmed: 0, partlyLive: 1 });
    expect(postOutcome([partly, ...t('failed')])).toEqual({ outcome: 'partial', published: 0, counted: 2, unconfirmed: 0, partlyLive: 1 });
    expect(postOutcome([partly, ...t('published')])).toEqual({
      outcome: 'partial',
      published: 1,
      counted: 2,
      unconfirmed: 0,
      partlyLive: 1,
    });
    // Live parts of a published thread are the thread itself; a failed target with none is failed.
    expect(postOutcome([{ status: 'published', finishedAt: at, liveParts: 3 }])).toEqual({
      outcome: 'published',
      published: 1,
      counted: 1,
      unconfirmed: 0,
      partlyLive: 0,
    });
    expect(postOutcome([{ status: 'failed', finishedAt: at, liveParts: 0 }])?.outcome).toBe('failed');
  });

  it('waits until every result is said', () => {
    expect(postOutcome([{ status: 'published', finishedAt: null }])).toBeUndefined();
    expect(postOutcome([...t('published'), { status: 'failed', finishedAt: null }])).toBeUndefined();
  });
});

describe('retryDecision', () => {
  const table: Array<[FailureClass, number, number, ReturnType<typeof retryDecision>]> = [
    ['retryable', 1, 3, { kind: 'requeue' }],
    ['retryable', 2, 3, { kind: 'requeue' }],
    ['retryable', 3, 3, { kind: 'final', status: 'failed' }],
    ['reconnect', 1, 3, { kind: 'final', status: 'failed' }],
    ['content', 1, 3, { kind: 'final', status: 'failed' }],
    ['unknown', 1, 3, { kind: 'final', status: 'unconfirmed' }],
    ['unknown', 3, 3, { kind: 'final', status: 'unconfirmed' }],
  ];
  for (const [failureClass, attempt, max, expected] of table)
    it(`${failureClass} at attempt ${attempt} of ${max}`, () => {
      expect(retryDecision(failureClass, attempt, max)).toEqual(expected);
    });
});

describe('retryableByCommand', () => {
  const table: Array<[FailureClass | null, string | null, boolean]> = [
    ['retryable', 'active', true],
    ['retryable', null, true],
    ['reconnect', 'active', true],
    ['reconnect', 'needs_reconnect', false],
    ['reconnect', null, false],
    ['content', 'active', false],
    ['unknown', 'active', false],
    [null, 'active', false],
  ];
  for (const [failureClass, accountStatus, expected] of table)
    it(`${failureClass} with the account ${accountStatus}: ${expected}`, () => {
      expect(retryableByCommand({ failureClass, accountStatus })).toBe(expected);
    });
});

describe('runStart', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const table: Array<[string, Parameters<typeof runStart>[0], { attempt: number; maxAttempts: number }, RunStart['kind']]> = [
    ['queued: publish', { status: 'queued', finishedAt: null, committedAt: null, attempts: 0 }, { attempt: 1, maxAttempts: 3 }, 'publish'],
    [
      'publishing (resumed): publish',
      { status: 'publishing', finishedAt: null, committedAt: null, attempts: 1 },
      { attempt: 2, maxAttempts: 3 },
      'publish',
    ],
    [
      'committed before: unconfirmed',
      { status: 'publishing', finishedAt: null, committedAt: at, attempts: 1 },
      { attempt: 2, maxAttempts: 3 },
      'unconfirmed',
    ],
    [
      'committed, even past the attempts: unconfirmed',
      { status: 'publishing', finishedAt: null, committedAt: at, attempts: 3 },
      { attempt: 4, maxAttempts: 3 },
      'unconfirmed',
    ],
    [
      'past the attempts: exhausted',
      { status: 'queued', finishedAt: null, committedAt: null, attempts: 3 },
      { attempt: 4, maxAttempts: 3 },
      'exhausted',
    ],
    [
      'recorded, not said: report',
      { status: 'published', finishedAt: null, committedAt: at, attempts: 1 },
      { attempt: 2, maxAttempts: 3 },
      'report',
    ],
    [
      'recorded, not said, budget left: report',
      { status: 'failed', finishedAt: null, committedAt: null, attempts: 1 },
      { attempt: 6, maxAttempts: 3 },
      'report',
    ],
    [
      'recorded, not said, budget spent: give up',
      { status: 'unconfirmed', finishedAt: null, committedAt: at, attempts: 1 },
      { attempt: 7, maxAttempts: 3 },
      'give-up-reporting',
    ],
    [
      'said already: settle the post',
      { status: 'published', finishedAt: at, committedAt: at, attempts: 1 },
      { attempt: 2, maxAttempts: 3 },
      'settle-post',
    ],
    [
      'cancelled: settle the post',
      { status: 'cancelled', finishedAt: at, committedAt: null, attempts: 0 },
      { attempt: 1, maxAttempts: 3 },
      'settle-post',
    ],
    [
      'still pending: nothing',
      { status: 'pending', finishedAt: null, committedAt: null, attempts: 0 },
      { attempt: 1, maxAttempts: 3 },
      'nothing',
    ],
  ];
  for (const [name, target, job, expected] of table)
    it(name, () => {
      expect(runStart(target, job).kind).toBe(expected);
    });

  it('a result may be said again for five runs after the one that recorded it', () => {
    expect(mayRetryReport(5, 1)).toBe(true);
    expect(mayRetryReport(6, 1)).toBe(false);
  });
});
