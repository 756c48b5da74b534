/**
 * ✅ and ❌ in Slack: the reaction names that mark a post approved or rejected, from an event
 * (`reaction_added`, `reaction_removed`) or read back from the approval message
 * (`reactions.get`). A skin tone is the same reaction ("white_check_mark::skin-tone-2").
 */
import type { Context } from '@slack/bolt';
import { botToken, dateOfTs, teamOf, type ListenerDependencies } from './context.js';

export const APPROVE_REACTION = 'white_check_mark';
export const REJECT_REACTION = 'x';

/** The mark a reaction name stands for, if any. */
export function markOfReaction(reaction: string): 'approve' | 'reject' | undefined {
  const name = reaction.split('::')[0];
  if (name === APPROVE_REACTION) return 'approve';
  if (name === REJECT_REACTION) return 'reject';
  return undefined;
}

/** ✅/❌ added to or removed from a message → the inbound facade, which decides when it is an approval message. */
export function registerReactions(deps: ListenerDependencies): void {
  const { app, core, people } = deps;

  async function onReaction(
    event: { user: string; reaction: string; item: { type: string; ts?: string; channel?: string }; event_ts?: string },
    change: 'add' | 'remove',
    context: Context,
    teamId: string | undefined,
  ): Promise<void> {
    if (event.item.type !== 'message' || !event.item.ts || !teamId) return;
    const mark = markOfReaction(event.reaction);
    if (!mark) return;
    await core.inbound.reaction({
      chat: 'slack',
      workspaceExternalId: teamId,
      messageId: event.item.ts,
      channelId: event.item.channel,
      mark,
      change,
      // When the person reacted: a ✅ given before the post's last edit does not count, even when its event arrives after.
      actedAt: dateOfTs(event.event_ts),
      decider: async () => {
        const person = await people.lookup(botToken(context), teamId, event.user, context.enterpriseId);
        return {
          userExternalId: event.user,
          userName: person.name,
          isBot: person.isBot || event.user === context.botUserId,
          isOutsider: person.isOutsider,
        };
      },
    });
  }

  app.event('reaction_added', async ({ event, context, body }) => onReaction(event, 'add', context, teamOf(context, body)));
  app.event('reaction_removed', async ({ event, context, body }) => onReaction(event, 'remove', context, teamOf(context, body)));
}
