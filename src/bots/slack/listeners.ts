/**
 * What the Slack app listens to, and how each request becomes a call into the core:
 * `/iqsp …` and messages that mention the bot → the command router; `/iqsp post` → the post
 * modal and its submission; ✅/❌ reactions and Approve/Reject buttons on approval messages
 * → decisions; `app_uninstalled` / `tokens_revoked` → the installation is deleted, and on
 * `app_uninstalled` the workspace's tokens too (the rest of its data after the retention).
 *
 * Every listener acknowledges first and works after (Slack wants its answer within 3 s). A
 * view submission is the one exception: its validation problems must travel in the ack, so
 * it works within a budget and, past it, acknowledges with a "checking" view and updates the
 * modal when done.
 */
import type { AllMiddlewareArgs, App, BlockAction, Context, RespondArguments, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Core } from '../../runtime.js';
import type { Db } from '../../db/database.js';
import type { SocialAccount } from '../../db/schema.js';
import type { Platform } from '../../core/ports/platforms.js';
import { ensureMember, ensureWorkspace } from '../../core/directory.js';
import { parseCommand, type TargetSpec, type TiktokPrivacy, TIKTOK_PRIVACY } from '../../core/grammar.js';
import type { Logger } from '../../observability/logger.js';
import type { Invocation, Reply } from '../../core/ports/chat.js';
import { toSlackMessage } from './blocks.js';
import { claimDelivery, eventKey, messageKey } from './deliveries.js';
import { attachmentsFrom, fileRef, type SlackFileRef } from './files.js';
import type { DbInstallationStore } from './installation-store.js';
import {
  BLOCKS,
  noticeView,
  POST_VIEW_ID,
  postView,
  readPostForm,
  type FormAccount,
  type FormMetadata,
  type FormValues,
  type SubmittedForm,
} from './modal.js';
import type { SlackPeople } from './people.js';
import { decisionForReaction } from './reactions.js';
import { fromSlackText } from './text.js';

export interface ListenerDependencies {
  app: App;
  core: Core;
  db: Db;
  people: SlackPeople;
  /** Absent in single-workspace mode (nothing is stored to delete). */
  installations: DbInstallationStore | undefined;
  logger: Logger;
  /** How long a view submission may work before it must acknowledge without its verdict. */
  viewAckBudgetMs: number;
}

const SORRY = "Sorry, something went wrong on IQSP's side; nothing was posted. Try again in a minute.";

/** The text a person typed, as far as the message shapes we handle go. */
interface IncomingMessage {
  teamId: string;
  channelId: string;
  channelType: string | undefined;
  userId: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  files: SlackFileRef[];
}

type PostOutcome = { kind: 'created'; postId: string } | { kind: 'refused'; problems: Partial<Record<'targets' | 'media', string[]>> };

function firstWord(text: string): string {
  return (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
}

function botToken(context: Context): string {
  if (!context.botToken) throw new Error('Bolt gave no bot token for this request');
  return context.botToken;
}

/** Drops the bot's own mention (`<@BOT>`, `<@BOT|iqsp>`) from a message, leaving the command. */
export function withoutMention(text: string, botUserId: string | undefined): string {
  const mention = botUserId ? new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g') : /^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/;
  return text
    .replace(mention, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

function respondArguments(reply: Reply): RespondArguments {
  return { response_type: reply.visibility === 'private' ? 'ephemeral' : 'in_channel', ...toSlackMessage(reply.message) };
}

/** How long the post modal waits for the platform to say which privacy levels an account allows. */
const PRIVACY_LOOKUP_MS = 5_000;

function isPrivacy(value: string | undefined): value is TiktokPrivacy {
  return value !== undefined && (TIKTOK_PRIVACY as readonly string[]).includes(value);
}

function slackErrorCode(error: unknown): string | undefined {
  return (error as { data?: { error?: string } }).data?.error;
}

export function registerListeners(deps: ListenerDependencies): void {
  const { app, core, db, people, logger } = deps;

  async function invocation(token: string, teamId: string, userId: string, channelId: string, fallbackName?: string): Promise<Invocation> {
    const person = await people.lookup(token, teamId, userId);
    return {
      chat: 'slack',
      workspaceExternalId: teamId,
      userExternalId: userId,
      userName: person.name ?? fallbackName,
      isAdmin: person.isAdmin,
      channelId,
    };
  }

  /** The platform's name when its publisher needs a privacy level per post. */
  function privacyFor(platform: Platform): string | undefined {
    const publisher = core.publishers.get(platform);
    return publisher?.requiresPrivacyChoice ? publisher.displayName : undefined;
  }

  async function formAccounts(workspaceId: string): Promise<{ rows: SocialAccount[]; form: FormAccount[] }> {
    const rows = await db
      .selectFrom('social_accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('platform')
      .orderBy('connected_at')
      .execute();
    return {
      rows,
      form: rows.map((a) => ({ id: a.id, platform: a.platform, label: core.accounts.label(a), privacyFor: privacyFor(a.platform) })),
    };
  }

  // Slack retries an event it thinks we missed; the first delivery claims the event id.
  app.use(async ({ body, next }) => {
    const envelope = body as { type?: unknown; event_id?: unknown };
    if (
      envelope.type === 'event_callback' &&
      typeof envelope.event_id === 'string' &&
      !(await claimDelivery(db, eventKey(envelope.event_id)))
    ) {
      logger.debug({ eventId: envelope.event_id }, 'Slack delivered an event again; it was handled already');
      return;
    }
    await next();
  });

  // ---- /iqsp … ----------------------------------------------------------------------------
  app.command(/.*/, async ({ command, ack, respond, context, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    const token = botToken(context);
    const text = fromSlackText(command.text ?? '');
    if (firstWord(text) === 'post') {
      await openPostModal(client, token, command.team_id, command.channel_id, command.trigger_id, text, respond);
      return;
    }
    const who = await invocation(token, command.team_id, command.user_id, command.channel_id, command.user_name);
    const reply = await core.commands.runText(who, text);
    try {
      await respond(respondArguments(reply));
    } catch (error) {
      // The response_url can be spent or expired; say it another way.
      logger.warn({ err: error }, 'response_url failed; replying through the Web API');
      const message = toSlackMessage(reply.message);
      if (reply.visibility === 'private')
        await client.chat.postEphemeral({ token, channel: command.channel_id, user: command.user_id, ...message });
      else await client.chat.postMessage({ token, channel: command.channel_id, ...message });
    }
  });

  async function openPostModal(
    client: WebClient,
    token: string,
    teamId: string,
    channelId: string,
    triggerId: string,
    text: string,
    respond: (message: RespondArguments) => Promise<unknown>,
  ): Promise<void> {
    const workspaceId = await ensureWorkspace(db, 'slack', teamId);
    const accounts = await formAccounts(workspaceId);
    if (accounts.rows.length === 0) {
      await respond({
        response_type: 'ephemeral',
        text: 'No account is connected in this workspace yet. Run `/iqsp connect <platform>` to connect one, then `/iqsp post` again.',
      });
      return;
    }
    // "/iqsp post x,tiktok:public Hello": targets preselected, caption prefilled. Anything else is the caption.
    const parsed = parseCommand(text);
    let values: FormValues = { caption: text.trim().replace(/^post\b\s*/i, '') };
    if (parsed.ok && parsed.command.kind === 'post') {
      const { targets } = await core.posts.resolveTargets(workspaceId, parsed.command.targets);
      const privacy = targets.map((t) => t.options.privacy).find(isPrivacy);
      values = { caption: parsed.command.caption, accountIds: targets.map((t) => t.account.id), privacy };
    }
    // Slack wants the modal within 3 seconds of the command: open it at once, then narrow the
    // privacy levels to what the platform says the accounts allow (TikTok's creator_info).
    const opened = await client.views.open({ token, trigger_id: triggerId, view: postView(accounts.form, values, { channelId }) });
    // One select serves every account that needs a level, so it is narrowed only when it can
    // speak for one account: the only such account here, or the only one the command chose.
    const needChoice = accounts.form.filter((a) => a.privacyFor).map((a) => a.id);
    const chosen = needChoice.filter((id) => values.accountIds?.includes(id));
    const account = needChoice.length === 1 ? needChoice[0] : chosen.length === 1 ? chosen[0] : undefined;
    if (!account || !opened.view?.id) return;
    const choices = (await core.posts.privacyChoices(workspaceId, [account], AbortSignal.timeout(PRIVACY_LOOKUP_MS))).get(account);
    if (!choices) return;
    const allowed = TIKTOK_PRIVACY.filter((level) => choices.includes(level));
    if (allowed.length === 0 || allowed.length === TIKTOK_PRIVACY.length) return;
    try {
      // The hash makes Slack refuse the update if the person has submitted or the view moved on.
      await client.views.update({
        token,
        view_id: opened.view.id,
        hash: opened.view.hash,
        view: postView(accounts.form, values, { channelId, privacyChoices: allowed }),
      });
    } catch (error) {
      logger.debug({ err: error }, 'the post modal moved on before the privacy levels arrived');
    }
  }

  // ---- the post modal ---------------------------------------------------------------------
  async function submitPost(who: Invocation, form: SubmittedForm, client: WebClient, token: string): Promise<PostOutcome> {
    const { workspaceId, userId } = await ensureMember(db, who);
    const chosen =
      form.accountIds.length === 0
        ? []
        : await db
            .selectFrom('social_accounts')
            .selectAll()
            .where('workspace_id', '=', workspaceId)
            .where('id', 'in', form.accountIds)
            .execute();
    if (chosen.length < form.accountIds.length || chosen.length === 0)
      return { kind: 'refused', problems: { targets: ['An account you chose is no longer connected here; choose again.'] } };
    // The modal names accounts exactly; the platform's own account id is the @handle no other account shares.
    const specs: TargetSpec[] = chosen.map((a) => ({
      kind: 'handle',
      handle: a.platform_account_id,
      option: privacyFor(a.platform) ? form.privacy : undefined,
    }));

    const files = await attachmentsFrom(client, token, form.files);
    if (!files.ok) return { kind: 'refused', problems: { media: files.problems } };
    const intake = await core.posts.takeInMedia(files.attachments, { workspaceId, uploadedById: userId });
    if ('problems' in intake) {
      // The targets are checked too, so the form shows every problem at once.
      const others = await core.posts.prepare(workspaceId, specs, form.caption, [], { mediaRefused: true });
      return { kind: 'refused', problems: { media: intake.problems, ...(others.ok ? {} : { targets: others.problems }) } };
    }
    const prepared = await core.posts.prepare(workspaceId, specs, form.caption, intake.media);
    if (!prepared.ok) {
      await core.posts.discardMedia(intake.media);
      return { kind: 'refused', problems: { targets: prepared.problems } };
    }
    try {
      const postId = await core.posts.create(who, workspaceId, userId, prepared, intake.media);
      return { kind: 'created', postId };
    } catch (error) {
      const code = slackErrorCode(error);
      if (code === 'not_in_channel' || code === 'channel_not_found' || code === 'is_archived')
        return {
          kind: 'refused',
          problems: {
            targets: [
              `IQSP cannot post in that channel (Slack says ${code}). Invite the app to the channel (/invite @IQSP) and try again.`,
            ],
          },
        };
      throw error;
    }
  }

  function problemList(problems: PostOutcome & { kind: 'refused' }): string[] {
    return [...(problems.problems.media ?? []), ...(problems.problems.targets ?? [])];
  }

  app.view(POST_VIEW_ID, async ({ ack, body, view, context, client }) => {
    const started = Date.now();
    if (body.type !== 'view_submission') return ack();
    const form = readPostForm(view);
    const token = botToken(context);
    const teamId = body.team?.id ?? view.team_id;
    const metadata: FormMetadata = form.metadata;
    const who = await invocation(token, teamId, body.user.id, metadata.channelId, body.user.name);
    const work = submitPost(who, form, client, token);

    // A budget of 0 always acknowledges first.
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, deps.viewAckBudgetMs - (Date.now() - started)));
    });
    let first: PostOutcome | 'late';
    try {
      first = deps.viewAckBudgetMs <= 0 ? 'late' : await Promise.race([work, budget]);
    } catch (error) {
      await ack({ response_action: 'errors', errors: { [BLOCKS.targets]: SORRY } });
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (first !== 'late') {
      if (first.kind === 'refused') {
        const errors: Record<string, string> = {};
        for (const [block, problems] of Object.entries(first.problems))
          if (problems && problems.length > 0) errors[BLOCKS[block as 'targets' | 'media']] = problems.join('\n');
        await ack({ response_action: 'errors', errors });
        return;
      }
      await ack();
      await confirmPost(client, token, metadata.channelId, body.user.id, first.postId);
      return;
    }

    // Past the budget (large files): close the loop in the modal once the work is done.
    await ack({ response_action: 'update', view: noticeView('Post with IQSP', 'Checking your files and targets…', metadata) });
    let outcome: PostOutcome;
    try {
      outcome = await work;
    } catch (error) {
      await client.views.update({ token, view_id: view.id, view: noticeView('Post with IQSP', SORRY, metadata) });
      throw error;
    }
    if (outcome.kind === 'refused') {
      const accounts = await formAccounts((await ensureMember(db, who)).workspaceId);
      await client.views.update({
        token,
        view_id: view.id,
        view: postView(
          accounts.form,
          { caption: form.caption, accountIds: form.accountIds, privacy: form.privacy },
          metadata,
          problemList(outcome),
        ),
      });
      return;
    }
    await client.views.update({
      token,
      view_id: view.id,
      view: noticeView('Post with IQSP', `Post ${outcome.postId} is waiting for approval in <#${metadata.channelId}>.`, metadata),
    });
  });

  async function confirmPost(client: WebClient, token: string, channel: string, user: string, postId: string): Promise<void> {
    try {
      await client.chat.postEphemeral({ token, channel, user, text: `Post ${postId} is waiting for approval in this channel.` });
    } catch (error) {
      logger.warn({ err: error, postId }, 'could not confirm the post request to its author');
    }
  }

  // ---- buttons ----------------------------------------------------------------------------
  app.action(/.*/, async ({ ack, body, context, respond }) => {
    await ack();
    if (body.type !== 'block_actions') return;
    const blockBody = body as BlockAction;
    const action = blockBody.actions[0];
    if (!action || action.type !== 'button') return;
    const teamId = blockBody.team?.id ?? context.teamId;
    if (!teamId) return;
    const userId = blockBody.user.id;
    switch (action.action_id) {
      case 'approve_post':
      case 'reject_post': {
        const postId = action.value ?? '';
        // The post must belong to the workspace the click came from.
        const post = await db
          .selectFrom('posts')
          .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
          .select('posts.id')
          .where('posts.id', '=', postId)
          .where('workspaces.chat', '=', 'slack')
          .where('workspaces.external_id', '=', teamId)
          .executeTakeFirst();
        if (!post) return;
        const person = await people.lookup(botToken(context), teamId, userId, context.enterpriseId);
        await core.posts.decideOnPost(post.id, {
          chat: 'slack',
          workspaceExternalId: teamId,
          userExternalId: userId,
          userName: person.name ?? blockBody.user.username,
          isBot: person.isBot || userId === context.botUserId,
          isOutsider: person.isOutsider,
          decision: action.action_id === 'approve_post' ? 'approve' : 'reject',
          via: 'button',
        });
        return;
      }
      case 'delete_my_data_confirm': {
        const channelId = blockBody.channel?.id ?? blockBody.container?.channel_id ?? '';
        const who = await invocation(botToken(context), teamId, userId, channelId, blockBody.user.username);
        const reply = await core.commands.run(who, { kind: 'delete-my-data', confirmed: true });
        await respond({ ...respondArguments(reply), replace_original: true });
        return;
      }
      default:
        // Link buttons (connect links) open in the browser; the click only needs its ack.
        return;
    }
  });

  // ---- messages that mention the bot (and direct messages to it) ---------------------------
  async function onMessage(message: IncomingMessage, context: Context, client: WebClient): Promise<void> {
    // `message` and `app_mention` deliver the same message twice; the first one acts.
    if (!(await claimDelivery(db, messageKey(message.teamId, message.channelId, message.ts)))) return;
    const token = botToken(context);
    const text = withoutMention(fromSlackText(message.text), context.botUserId);
    const who = await invocation(token, message.teamId, message.userId, message.channelId);
    const isPost = firstWord(text) === 'post';
    let reply: Reply;
    const files = message.files.length > 0 ? await attachmentsFrom(client, token, message.files) : { ok: true as const, attachments: [] };
    if (!files.ok)
      reply = {
        visibility: 'private',
        message: { text: ['Nothing was posted. Fix these and try again:', ...files.problems.map((p) => `• ${p}`)].join('\n') },
      };
    else reply = await core.commands.runText(who, text, files.attachments);

    const rendered = toSlackMessage(reply.message);
    const channel = message.channelId;
    if (message.channelType === 'im' && !isPost)
      await client.chat.postMessage({ token, channel, thread_ts: message.threadTs, ...rendered });
    // A post request is answered in the thread of the message that asked (problems included); so are replies meant for the channel.
    else if (isPost || reply.visibility === 'channel')
      await client.chat.postMessage({ token, channel, thread_ts: message.threadTs ?? message.ts, ...rendered });
    else await client.chat.postEphemeral({ token, channel, user: message.userId, thread_ts: message.threadTs, ...rendered });
  }

  function incoming(event: Record<string, unknown>, teamId: string | undefined): IncomingMessage | undefined {
    const str = (key: string) => (typeof event[key] === 'string' ? (event[key] as string) : undefined);
    const channelId = str('channel');
    const userId = str('user');
    const ts = str('ts');
    if (!teamId || !channelId || !userId || !ts) return undefined;
    const files = Array.isArray(event.files)
      ? (event.files as Array<Parameters<typeof fileRef>[0]>).filter((f) => typeof f?.id === 'string').map(fileRef)
      : [];
    return { teamId, channelId, channelType: str('channel_type'), userId, ts, threadTs: str('thread_ts'), text: str('text') ?? '', files };
  }

  app.event('app_mention', async ({ event, context, body, client }) => {
    const message = incoming(event as unknown as Record<string, unknown>, context.teamId ?? (body as { team_id?: string }).team_id);
    if (!message || (event as { bot_id?: string }).bot_id) return;
    await onMessage(message, context, client);
  });

  app.event('message', async ({ event, context, body, client }) => {
    const raw = event as unknown as Record<string, unknown>;
    const subtype = raw.subtype;
    if (subtype !== undefined && subtype !== 'file_share' && subtype !== 'thread_broadcast') return;
    if (raw.bot_id) return;
    const message = incoming(raw, context.teamId ?? (body as { team_id?: string }).team_id);
    if (!message) return;
    const mentioned = context.botUserId !== undefined && message.text.includes(`<@${context.botUserId}`);
    if (message.channelType !== 'im' && !mentioned) return;
    await onMessage(message, context, client);
  });

  // ---- ✅ / ❌ on approval messages ----------------------------------------------------------
  async function onReaction(
    event: { user: string; reaction: string; item: { type: string; ts?: string; channel?: string } },
    added: boolean,
    context: Context,
    teamId: string | undefined,
  ): Promise<void> {
    if (event.item.type !== 'message' || !event.item.ts || !teamId) return;
    const decision = decisionForReaction(event.reaction, added);
    if (!decision) return;
    const person = await people.lookup(botToken(context), teamId, event.user, context.enterpriseId);
    await core.posts.decide({
      chat: 'slack',
      workspaceExternalId: teamId,
      messageId: event.item.ts,
      channelId: event.item.channel,
      userExternalId: event.user,
      userName: person.name,
      isBot: person.isBot || event.user === context.botUserId,
      isOutsider: person.isOutsider,
      decision,
      via: 'reaction',
    });
  }

  app.event('reaction_added', async ({ event, context, body }) => {
    await onReaction(event, true, context, context.teamId ?? (body as { team_id?: string }).team_id);
  });
  app.event('reaction_removed', async ({ event, context, body }) => {
    await onReaction(event, false, context, context.teamId ?? (body as { team_id?: string }).team_id);
  });

  // ---- uninstalls -------------------------------------------------------------------------
  async function forgetInstallation(context: Context, reason: string): Promise<void> {
    if (!deps.installations) {
      logger.info({ teamId: context.teamId, reason }, 'Slack says the app lost access (single-workspace mode: nothing is stored)');
      return;
    }
    await deps.installations.deleteInstallation({
      teamId: context.isEnterpriseInstall ? undefined : context.teamId,
      enterpriseId: context.enterpriseId,
      isEnterpriseInstall: context.isEnterpriseInstall,
    });
    logger.info({ teamId: context.teamId, enterpriseId: context.enterpriseId, reason }, 'Slack installation deleted');
  }

  app.event('app_uninstalled', async ({ context, body }) => {
    await forgetInstallation(context, 'app_uninstalled');
    const teamId = context.teamId ?? (body as { team_id?: string }).team_id;
    if (teamId) await core.dataRights.workspaceRemoved('slack', teamId, 'app_uninstalled');
  });
  app.event('tokens_revoked', async ({ event, context }) => {
    // Only the bot token matters: that is what an installation holds.
    if ((event.tokens.bot ?? []).length > 0) await forgetInstallation(context, 'tokens_revoked');
  });

  app.error(async (error) => {
    logger.error({ err: error }, 'a Slack request failed after it was acknowledged');
  });
}
