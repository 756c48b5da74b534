/**
 * Button presses (`block_actions`): acknowledged at once, then handed to the inbound facade
 * (Approve/Reject on an approval message, the delete-my-data confirmation). Link buttons
 * (connect links) open in the browser; the press only needs its ack.
 */
import { botToken, invocationOf, respondArguments, type ListenerDependencies } from './context.js';

export function registerButtons(deps: ListenerDependencies): void {
  const { app, core, people } = deps;
  app.action(/.*/, async ({ ack, body, context, respond }) => {
    await ack();
    if (body.type !== 'block_actions') return;
    const blockBody = body;
    const action = blockBody.actions[0];
    if (!action || action.type !== 'button') return;
    const teamId = blockBody.team?.id ?? context.teamId;
    if (!teamId) return;
    const userId = blockBody.user.id;
    const outcome = await core.inbound.button({
      chat: 'slack',
      workspaceExternalId: teamId,
      actionId: action.action_id,
      value: action.value ?? '',
      decider: async () => {
        const person = await people.lookup(botToken(context), teamId, userId, context.enterpriseId);
        return {
          userExternalId: userId,
          userName: person.name ?? blockBody.user.username,
          isBot: person.isBot || userId === context.botUserId,
          isOutsider: person.isOutsider,
        };
      },
      invoker: () => {
        // Bolt types `container` loosely; a message's container names its channel.
        const container = blockBody.container as { channel_id?: string } | undefined;
        const channelId = blockBody.channel?.id ?? container?.channel_id ?? '';
        return invocationOf(deps, botToken(context), teamId, userId, channelId, blockBody.user.username);
      },
    });
    if (outcome.kind === 'answered') await respond({ ...respondArguments(outcome.reply), replace_original: true });
  });
}
