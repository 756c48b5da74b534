/**
 * ✅ and ❌ in Slack: the reaction names that decide a post, from an event (`reaction_added`,
 * `reaction_removed`) or read back from the approval message (`reactions.get`). A skin tone is
 * the same reaction ("white_check_mark::skin-tone-2").
 */
import type { DecisionKind } from '../../core/approval.js';

export const APPROVE_REACTION = 'white_check_mark';
export const REJECT_REACTION = 'x';

/** The decision a reaction being added (or removed) makes, if any. */
export function decisionForReaction(reaction: string, added: boolean): DecisionKind | undefined {
  const name = reaction.split('::')[0];
  if (name === APPROVE_REACTION) return added ? 'approve' : 'withdraw';
  if (name === REJECT_REACTION && added) return 'reject';
  return undefined;
}
