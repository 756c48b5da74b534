import { describe, expect, it } from 'vitest';
import {
  applyDecision,
  initialApprovalState,
  type ApprovalPolicy,
  type ApprovalState,
  type DecisionEvent,
  type DecisionKind,
} from '../../src/core/approval.js';

const T0 = new Date('2026-11-29T10:00:00Z');
const EXPIRES = new Date('2026-12-02T10:00:00Z');
const anyone: ApprovalPolicy = { approverIds: [] };
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const event = (kind: DecisionKind, userId: string, minutes = 1, isBot = false): DecisionEvent => ({ kind, userId, isBot, at: at(minutes) });

function run(state: ApprovalState, events: DecisionEvent[], policy = anyone) {
  const outcomes = [];
  let current = state;
  for (const e of events) {
    const outcome = applyDecision(current, e, policy);
    outcomes.push(outcome);
    current = outcome.state;
  }
  return { state: current, outcomes };
}

describe('approval state machine', () => {
  it('approves on the first eligible ✅ with a quorum of 1', () => {
    const { state, outcomes } = run(initialApprovalState('req', 1, EXPIRES), [event('approve', 'bob')]);
    expect(state.status).toBe('approved');
    expect(outcomes[0]).toMatchObject({ kind: 'counted', ended: 'approved' });
  });

  it('needs two different people for a quorum of 2; the same person twice counts once', () => {
    const { state, outcomes } = run(initialApprovalState('req', 2, EXPIRES), [
      event('approve', 'bob'),
      event('approve', 'bob', 2),
      event('approve', 'carol', 3),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['counted', 'ignored', 'counted']);
    expect(outcomes[1]).toMatchObject({ reason: 'duplicate' });
    expect(state.status).toBe('approved');
    expect(state.approvedBy).toEqual(['bob', 'carol']);
  });

  it('ignores the requester (no self-approval) and the bot', () => {
    const { state, outcomes } = run(initialApprovalState('req', 1, EXPIRES), [
      event('approve', 'req'),
      event('approve', 'bot', 1, true),
      event('reject', 'req'),
    ]);
    expect(state.status).toBe('pending');
    expect(outcomes.map((o) => o.kind === 'ignored' && o.reason)).toEqual(['requester', 'bot', 'requester']);
  });

  it('counts only listed approvers when the workspace has a list', () => {
    const policy = { approverIds: ['carol'] };
    const { state, outcomes } = run(
      initialApprovalState('req', 1, EXPIRES),
      [event('approve', 'bob'), event('reject', 'bob'), event('approve', 'carol')],
      policy,
    );
    expect(outcomes.map((o) => o.kind === 'ignored' && o.reason)).toEqual(['not-an-approver', 'not-an-approver', false]);
    expect(state.status).toBe('approved');
  });

  it('rejects on one eligible ❌ even after approvals (veto), and then ignores everything', () => {
    const { state, outcomes } = run(initialApprovalState('req', 2, EXPIRES), [
      event('approve', 'bob'),
      event('reject', 'carol'),
      event('approve', 'dave'),
    ]);
    expect(outcomes[1]).toMatchObject({ kind: 'counted', ended: 'rejected' });
    expect(outcomes[2]).toMatchObject({ kind: 'ignored', reason: 'not-pending' });
    expect(state.status).toBe('rejected');
  });

  it('withdraws an approval when a ✅ is removed before the outcome', () => {
    const { state, outcomes } = run(initialApprovalState('req', 2, EXPIRES), [
      event('approve', 'bob'),
      event('withdraw', 'bob'),
      event('withdraw', 'bob'),
      event('approve', 'carol'),
    ]);
    expect(outcomes[2]).toMatchObject({ kind: 'ignored', reason: 'nothing-to-withdraw' });
    expect(state.status).toBe('pending');
    expect(state.approvedBy).toEqual(['carol']);
  });

  it('expires when no outcome was reached in time; late decisions do nothing', () => {
    const state = initialApprovalState('req', 1, at(60));
    const late = applyDecision(state, event('approve', 'bob', 61), anyone);
    expect(late.kind).toBe('expired');
    expect(late.state.status).toBe('expired');
    expect(applyDecision(late.state, event('approve', 'carol', 62), anyone)).toMatchObject({ kind: 'ignored', reason: 'not-pending' });
  });

  it('starts approved when the workspace requires no approval', () => {
    expect(initialApprovalState('req', 0, EXPIRES).status).toBe('approved');
  });
});
