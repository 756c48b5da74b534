import { describe, expect, it } from 'vitest';
import { approvalStateOf, type DecisionKind } from '../../src/core/approval.js';

const expiresAt = new Date('2026-01-02T00:00:00.000Z');
const post = (status: string) => ({ status, requesterId: 'R', required: 2, expiresAt });
const d = (userId: string, decision: DecisionKind) => ({ userId, decision });

describe('approvalStateOf', () => {
  const statuses: Array<[string, string]> = [
    ['pending_approval', 'pending'],
    ['approved', 'approved'],
    ['publishing', 'approved'],
    ['published', 'approved'],
    ['partial', 'approved'],
    ['failed', 'approved'],
    ['rejected', 'rejected'],
    ['expired', 'expired'],
    ['cancelled', 'cancelled'],
  ];
  for (const [stored, expected] of statuses)
    it(`a ${stored} post is ${expected}`, () => {
      expect(approvalStateOf(post(stored), []).status).toBe(expected);
    });

  const folds: Array<[string, Array<ReturnType<typeof d>>, string[]]> = [
    ['no decision', [], []],
    ['two approvals', [d('A', 'approve'), d('B', 'approve')], ['A', 'B']],
    ['the same approval twice counts once', [d('A', 'approve'), d('A', 'approve')], ['A']],
    ['a withdrawal takes it out', [d('A', 'approve'), d('B', 'approve'), d('A', 'withdraw')], ['B']],
    ['approved again after a withdrawal', [d('A', 'approve'), d('A', 'withdraw'), d('A', 'approve')], ['A']],
    ['a rejection adds nobody', [d('A', 'reject')], []],
  ];
  for (const [name, decisions, approvedBy] of folds)
    it(name, () => {
      expect(approvalStateOf(post('pending_approval'), decisions)).toEqual({
        status: 'pending',
        requesterId: 'R',
        required: 2,
        approvedBy,
        expiresAt,
      });
    });
});
