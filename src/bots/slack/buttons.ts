/**
 * Button presses and other `block_actions`: acknowledged at once, then handed on. Presses on the
 * core's messages go to the inbound facade (Approve/Reject/Edit on an approval message, the
 * delete-my-data confirmation); Edit opens the post form filled in. Fields of the open post
 * modal that dispatch (its text fields, its accounts) re-render it with live counts. Link
 * buttons (connect links) open in the browser; the press only needs its ack.
 */
import { botToken, dateOfTs, invocationOf, respondArguments, type ListenerDependencies } from './context.js';
import { ACTIONS } from '../../core/actions.js';
import { POST_VIEW_ID } from './modal.js';
import { fitsSlackForm, openEditForm, refreshPostForm, SLACK_FIELD_MAX } from './post-form.js';

export function registerButtons(deps: ListenerDependencies): void {
  const { app, core, people } = deps;
  app.action(/.*/, async ({ ack, body, context, respond, client }) => {
    await ack();
    if (body.type !== 'block_actions') return;
    const blockBody = body;
    if (blockBody.view?.callback_id === POST_VIEW_ID) {
      await refreshPostForm(deps, client, botToken(context), blockBody);
      return;
    }
    const action = blockBody.actions[0];
    if (!action || action.type !== 'button') return;
    const teamId = blockBody.team?.id ?? context.teamId;
    if (!teamId) return;
    const userId = blockBody.user.id;
    // Bolt types `container` loosely; a message's container names its channel.
    const container = blockBody.container as { channel_id?: string } | undefined;
    const channelId = blockBody.channel?.id ?? container?.channel_id ?? '';
    const outcome = await core.inbound.button({
      chat: 'slack',
      workspaceExternalId: teamId,
      actionId: action.action_id,
      value: action.value ?? '',
      // The message the button is on: the container names it (the payload's `message` is its copy).
      messageId: (blockBody.container as { message_ts?: string } | undefined)?.message_ts ?? blockBody.message?.ts,
      // When the person pressed: an Approve pressed before the post's last edit does not count.
      actedAt: dateOfTs(action.action_ts),
      decider: async () => {
        const person = await people.lookup(botToken(context), teamId, userId, context.enterpriseId);
        return {
          userExternalId: userId,
          userName: person.name ?? blockBody.user.username,
          isBot: person.isBot || userId === context.botUserId,
          isOutsider: person.isOutsider,
        };
      },
      invoker: () => invocationOf(deps, botToken(context), teamId, userId, channelId, blockBody.user.username),
    });
    // A text longer than a Slack form field holds would be cut by the form, and saved cut: said instead.
    if (outcome.kind === 'edit' && !fitsSlackForm(outcome.content))
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `Post ${outcome.postId} has a text longer than Slack's form takes (${SLACK_FIELD_MAX.toLocaleString('en-US')} characters): edit it with \`/iqsp edit ${outcome.postId} …\` instead.`,
      });
    else if (outcome.kind === 'edit')
      await openEditForm(deps, client, botToken(context), { triggerId: blockBody.trigger_id, channelId }, outcome.postId, outcome.content);
    // A refused Edit is said to the presser alone, the approval message left as it is.
    else if (outcome.kind === 'answered')
      await respond({ ...respondArguments(outcome.reply), replace_original: action.action_id !== ACTIONS.editPost });
  });
}
