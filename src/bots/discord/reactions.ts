/**
 * ✅/❌ on a message → the inbound facade, which decides when it is an approval message. The
 * message may not be cached (the bot restarted since it posted it): with the Message, Reaction
 * and User partials discord.js still emits, and the ids in the event are all the core needs; a
 * partial user is fetched for its name and bot flag. The bot's own seeded reactions are ignored
 * here.
 */
import type { MessageReaction, PartialMessageReaction, PartialUser, User } from 'discord.js';
import type { DiscordDeps } from './context.js';
import { displayName } from './context.js';
import { APPROVE_EMOJI, REJECT_EMOJI } from './render.js';

/** The mark an emoji stands for, if any. */
export function markOfEmoji(emoji: string | null): 'approve' | 'reject' | undefined {
  if (emoji === APPROVE_EMOJI) return 'approve';
  if (emoji === REJECT_EMOJI) return 'reject';
  return undefined;
}

export async function handleReaction(
  deps: DiscordDeps,
  reaction: MessageReaction | PartialMessageReaction,
  eventUser: User | PartialUser,
  change: 'add' | 'remove',
): Promise<void> {
  if (eventUser.id === deps.client.user?.id) return;
  const mark = markOfEmoji(reaction.emoji.name);
  const guildId = reaction.message.guildId;
  if (!mark || !guildId) return;
  await deps.core.inbound.reaction({
    chat: 'discord',
    workspaceExternalId: guildId,
    messageId: reaction.message.id,
    mark,
    change,
    decider: async () => {
      const user = eventUser.partial ? await eventUser.fetch() : eventUser;
      const member = reaction.message.guild?.members.cache.get(user.id);
      return { userExternalId: user.id, userName: displayName(user, member), isBot: user.bot };
    },
  });
}
