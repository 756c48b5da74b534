/**
 * ✅/❌ on an approval message → the core's decision. The message may not be cached (the bot
 * restarted since it posted it): with the Message, Reaction and User partials discord.js still
 * emits, and the ids in the event are all the core needs; a partial user is fetched for its
 * name and bot flag. The bot's own seeded reactions are ignored here.
 */
import type { MessageReaction, PartialMessageReaction, PartialUser, User } from 'discord.js';
import type { DecisionKind } from '../../core/approval.js';
import type { DiscordDeps } from './context.js';
import { APPROVE_EMOJI, REJECT_EMOJI } from './render.js';

export function decisionFor(emoji: string | null, change: 'add' | 'remove'): DecisionKind | undefined {
  if (emoji === APPROVE_EMOJI) return change === 'add' ? 'approve' : 'withdraw';
  if (emoji === REJECT_EMOJI && change === 'add') return 'reject';
  return undefined;
}

export async function handleReaction(
  deps: DiscordDeps,
  reaction: MessageReaction | PartialMessageReaction,
  eventUser: User | PartialUser,
  change: 'add' | 'remove',
): Promise<void> {
  if (eventUser.id === deps.client.user?.id) return;
  const decision = decisionFor(reaction.emoji.name, change);
  const guildId = reaction.message.guildId;
  if (!decision || !guildId) return;
  const user = eventUser.partial ? await eventUser.fetch() : eventUser;
  const member = reaction.message.guild?.members.cache.get(user.id);
  await deps.core.posts.decide({
    chat: 'discord',
    workspaceExternalId: guildId,
    messageId: reaction.message.id,
    userExternalId: user.id,
    userName: member?.displayName ?? user.globalName ?? user.username,
    isBot: user.bot,
    decision,
    via: 'reaction',
  });
}
