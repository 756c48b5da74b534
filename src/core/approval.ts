/**
 * The approval rules (contract.md §5) as a pure state machine: plain data in, plain data out,
 * no I/O. The posts service records every decision and folds them through `applyDecision`.
 *
 * - Only eligible approvers count: the workspace's approver list, or anyone when it is empty;
 *   never the requester, never a bot, and outsiders (guests, people of another organization in
 *   a shared channel) only when listed. Eligibility is checked at decision time.
 * - ✅ adds an approval; reaching the required number approves the post.
 * - One eligible ❌ rejects it (a veto).
 * - Removing a ✅ before the outcome withdraws that approval.
 * - With no outcome by `expiresAt`, the request expires.
 * - The same decision twice (a redelivered event) changes nothing.
 */

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

export interface ApprovalState {
  status: ApprovalStatus;
  requesterId: string;
  required: number;
  /** Eligible users whose ✅ currently counts. */
  approvedBy: readonly string[];
  expiresAt: Date;
}

export interface ApprovalPolicy {
  /** Internal ids of the listed approvers; empty means any member but the requester. */
  approverIds: readonly string[];
}

export type DecisionKind = 'approve' | 'reject' | 'withdraw';

export interface DecisionEvent {
  kind: DecisionKind;
  userId: string;
  isBot: boolean;
  /** A guest of the workspace, or someone from another organization (as the chat tells). */
  isOutsider?: boolean | undefined;
  at: Date;
}

export type IgnoredReason = 'not-pending' | 'bot' | 'requester' | 'outsider' | 'not-an-approver' | 'duplicate' | 'nothing-to-withdraw';

export type DecisionOutcome =
  | { kind: 'ignored'; reason: IgnoredReason; state: ApprovalState }
  | { kind: 'counted'; state: ApprovalState; /** set when this decision ended the request */ ended?: 'approved' | 'rejected' }
  | { kind: 'expired'; state: ApprovalState };

/**
 * The approval state of a post from its stored status and the decisions that counted, in the
 * order they were taken: a ✅ adds its giver once, a withdrawal takes them out again. A post
 * past its approval (publishing, published…) is `approved`.
 */
export function approvalStateOf(
  post: { status: string; requesterId: string; required: number; expiresAt: Date },
  decisions: ReadonlyArray<{ userId: string; decision: DecisionKind }>,
): ApprovalState {
  let approvedBy: string[] = [];
  for (const d of decisions) {
    if (d.decision === 'approve' && !approvedBy.includes(d.userId)) approvedBy.push(d.userId);
    else if (d.decision === 'withdraw') approvedBy = approvedBy.filter((id) => id !== d.userId);
  }
  const status: ApprovalStatus =
    post.status === 'pending_approval'
      ? 'pending'
      : post.status === 'rejected' || post.status === 'expired' || post.status === 'cancelled'
        ? post.status
        : 'approved';
  return { ...initialApprovalState(post.requesterId, post.required, post.expiresAt), status, approvedBy };
}

export function initialApprovalState(requesterId: string, required: number, expiresAt: Date): ApprovalState {
  return { status: required <= 0 ? 'approved' : 'pending', requesterId, required, approvedBy: [], expiresAt };
}

export function isEligibleApprover(userId: string, state: ApprovalState, policy: ApprovalPolicy): boolean {
  if (userId === state.requesterId) return false;
  return policy.approverIds.length === 0 || policy.approverIds.includes(userId);
}

export function approvalQuorumReached(state: ApprovalState): boolean {
  return state.approvedBy.length >= state.required;
}

/** Expires a pending request whose time is up; otherwise returns the state unchanged. */
export function expireIfDue(state: ApprovalState, now: Date): ApprovalState {
  return state.status === 'pending' && now.getTime() >= state.expiresAt.getTime() ? { ...state, status: 'expired' } : state;
}

export function applyDecision(state: ApprovalState, event: DecisionEvent, policy: ApprovalPolicy): DecisionOutcome {
  const current = expireIfDue(state, event.at);
  if (current.status === 'expired' && state.status === 'pending') return { kind: 'expired', state: current };
  if (current.status !== 'pending') return { kind: 'ignored', reason: 'not-pending', state: current };
  if (event.isBot) return { kind: 'ignored', reason: 'bot', state: current };
  if (event.userId === current.requesterId) return { kind: 'ignored', reason: 'requester', state: current };
  if (event.isOutsider === true && !policy.approverIds.includes(event.userId))
    return { kind: 'ignored', reason: 'outsider', state: current };
  if (!isEligibleApprover(event.userId, current, policy)) return { kind: 'ignored', reason: 'not-an-approver', state: current };

  switch (event.kind) {
    case 'approve': {
      if (current.approvedBy.includes(event.userId)) return { kind: 'ignored', reason: 'duplicate', state: current };
      const next = { ...current, approvedBy: [...current.approvedBy, event.userId] };
      if (approvalQuorumReached(next)) return { kind: 'counted', state: { ...next, status: 'approved' }, ended: 'approved' };
      return { kind: 'counted', state: next };
    }
    case 'reject':
      return { kind: 'counted', state: { ...current, status: 'rejected' }, ended: 'rejected' };
    case 'withdraw': {
      if (!current.approvedBy.includes(event.userId)) return { kind: 'ignored', reason: 'nothing-to-withdraw', state: current };
      return { kind: 'counted', state: { ...current, approvedBy: current.approvedBy.filter((id) => id !== event.userId) } };
    }
  }
}

/** The sentence answered in the thread for an ignored decision (undefined: say nothing). */
export function ignoredExplanation(reason: IgnoredReason): string | undefined {
  switch (reason) {
    case 'requester':
      return 'The person who asked for a post cannot approve or reject it.';
    case 'not-an-approver':
      return 'Only the workspace approvers can approve or reject posts (see `approvers`).';
    case 'outsider':
      return 'Guests and people from outside this workspace can approve or reject posts only when an admin lists them as approvers (see `approvers`).';
    case 'bot':
    case 'duplicate':
    case 'nothing-to-withdraw':
    case 'not-pending':
      return undefined;
  }
}
