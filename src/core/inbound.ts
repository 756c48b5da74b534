/**
 * The one door into the core for everything a person does in a chat: a text command (`/iqsp …`
 * or a mention), a structured command (Discord's options), a ✅/❌ reaction, a button press, the
 * post form (Slack's modal), a delivery to deduplicate, and the app being removed. Each chat
 * surface translates its platform's event into one of these calls and renders what comes back;
 * the rules (what a button does, which reaction decides what, what the post form offers and
 * refuses) are here, once, for every surface.
 */
import type { Db } from '../db/database.js';
import type { SocialAccount } from '../db/schema.js';
import { claimDeliveries } from '../db/repositories/chat-events.js';
import type { AttachmentSource } from '../media/service.js';
import type { Logger } from '../observability/logger.js';
import type { Publishers } from '../publishers/registry.js';
import type { AccountsService } from './accounts.js';
import { buttonAction, nothingPostedText, REFUSALS } from './actions.js';
import type { DecisionKind } from './approval.js';
import type { CommandRouter } from './commands.js';
import type { DataRightsService } from './data-rights.js';
import { DeliveryClaims } from './delivery-claims.js';
import { ensureMember, ensureWorkspace } from './directory.js';
import type { Command, Grammar, TargetSpec, TargetOptionWord } from './grammar.js';
import type { EditableContent, EditChange, PostsService, RecentOutcome, UpcomingPost } from './posts.js';
import type { ChatKind, Invocation, Reply } from './ports/chat.js';
import { privateReply } from './ports/chat.js';
import type { Platform } from './ports/platforms.js';

export interface InboundDependencies {
  db: Db;
  publishers: Publishers;
  accounts: AccountsService;
  commands: CommandRouter;
  dataRights: DataRightsService;
  posts: PostsService;
  logger: Logger;
  /** The chat grammar over this install's platforms (the registry's). */
  grammar: Grammar;
}

/** A workspace as its chat names it. */
export interface ChatWorkspace {
  chat: ChatKind;
  workspaceExternalId: string;
}

/** Someone deciding on a post, as far as their chat tells. */
export interface Decider {
  userExternalId: string;
  userName?: string | undefined;
  isBot: boolean;
  /** A guest, or someone from another organization (where the chat tells). */
  isOutsider?: boolean | undefined;
}

/** Files a person gave with a command, or why some of them cannot be taken. */
export type AttachmentIntake = { ok: true; attachments: AttachmentSource[] } | { ok: false; problems: string[] };

/** A ✅ or ❌ put on (or taken off) a message. */
export interface ReactionEvent extends ChatWorkspace {
  messageId: string;
  /** The channel of the message, where message ids are unique only per channel (Slack's ts). */
  channelId?: string | undefined;
  mark: 'approve' | 'reject';
  change: 'add' | 'remove';
  /** Who reacted: asked only when the reaction can decide something. */
  decider: () => Promise<Decider>;
  /** When the person reacted, as the chat stamps it (a ✅ given before an edit does not count); undefined: now. */
  actedAt?: Date | undefined;
}

/** A button pressed on one of the core's messages. */
export interface ButtonPress extends ChatWorkspace {
  actionId: string;
  value: string;
  /**
   * The message the button is on (Slack: its `ts`; Discord: its id); undefined where the surface
   * cannot tell (the sandbox page). Approve and Reject decide only on the post's approval message
   * in use: a message whose id was never stored (its request was shown again) may show older text.
   */
  messageId: string | undefined;
  /** Who pressed, as a decider: asked only when the press decides a post of this workspace. */
  decider: () => Promise<Decider>;
  /** Who pressed, as the invoker of a command the press confirms. */
  invoker: () => Promise<Invocation>;
  /** Runs the command a press confirms in the surface's context (Discord: the interaction answered). */
  within?: <T>(work: () => Promise<T>) => Promise<T>;
  /** When the person pressed, as the chat stamps it (an Approve pressed before an edit does not count); undefined: now. */
  actedAt?: Date | undefined;
}

/** What a press did: nothing, a decision (the core says the outcome in the post's thread), or an answer for the presser. */
export type ButtonOutcome =
  | { kind: 'ignored' }
  | { kind: 'decided' }
  | { kind: 'answered'; reply: Reply }
  /** The requester pressed Edit on a post they may edit: the surface opens its form with this content. */
  | { kind: 'edit'; postId: string; content: EditableContent };

/** An account the post form offers; `privacyFor` names its platform when a post must choose a privacy level for it. */
export interface PostFormAccount {
  id: string;
  platform: Platform;
  label: string;
  privacyFor: string | undefined;
}

/** What the post form starts with. */
export interface PostFormValues {
  caption?: string | undefined;
  accountIds?: string[] | undefined;
  privacy?: TargetOptionWord | undefined;
  /** When to publish, from a `<when>` typed after the targets, read in the requester's zone. */
  when?: Date | undefined;
}

export type PostFormOpening =
  { kind: 'refused'; text: string } | { kind: 'form'; workspaceId: string; accounts: PostFormAccount[]; values: PostFormValues };

/** A filled-in post form. */
export interface PostForm {
  caption: string;
  accountIds: string[];
  privacy: TargetOptionWord | undefined;
  /** When to publish (a date-time picker's instant); undefined: once approved. */
  when?: Date | undefined;
  /** Each chosen platform's own version (issue 16), by platform; a blank one is the caption. */
  versions?: ReadonlyMap<Platform, string> | undefined;
}

/** Problems by the form part they are about. */
export type PostFormProblems = Partial<Record<'targets' | 'media' | 'when', string[]>>;

/** What a person's Home view shows (Slack's App Home): the workspace's upcoming posts and latest outcomes. */
export interface HomeView {
  /** The reader's zone, for chats that cannot show each reader theirs. */
  zone: string;
  now: Date;
  upcoming: UpcomingPost[];
  recent: RecentOutcome[];
}

export type PostFormOutcome = { kind: 'created'; postId: string } | { kind: 'refused'; problems: PostFormProblems };

/** How long the post form waits for the platform to say which privacy levels an account allows. */
const PRIVACY_LOOKUP_MS = 5_000;

/** The decision a ✅ or ❌ being added or removed makes: ✅ approves and its removal withdraws; ❌ rejects. */
export function reactionDecision(mark: 'approve' | 'reject', change: 'add' | 'remove'): DecisionKind | undefined {
  if (mark === 'approve') return change === 'add' ? 'approve' : 'withdraw';
  return change === 'add' ? 'reject' : undefined;
}

/** Every post form problem in one list, media first. */
export function postFormProblemList(problems: PostFormProblems): string[] {
  return [...(problems.media ?? []), ...(problems.when ?? []), ...(problems.targets ?? [])];
}

export class Inbound {
  /** The privacy levels the post form offers: the words of the platforms' required target option (TikTok's). */
  private readonly privacyWords: readonly string[];
  /** Delivery keys, claimed in batches (one insert for the requests of a burst). */
  private readonly claims: DeliveryClaims;

  constructor(private readonly deps: InboundDependencies) {
    this.privacyWords = deps.grammar.platforms.find((p) => p.targetOption?.required)?.targetOption?.words ?? [];
    this.claims = new DeliveryClaims((keys) => claimDeliveries(deps.db, keys));
  }

  private isPrivacy(value: string | undefined): value is TargetOptionWord {
    return value !== undefined && this.privacyWords.includes(value);
  }

  /** True the first time a delivery key is seen (retries, replays, an event delivered twice). */
  claimDelivery(key: string): Promise<boolean> {
    return this.claims.claim(key);
  }

  /** Whether a delivery is known to be claimed already, without asking the database (a replay when true). */
  deliveryKnown(key: string): boolean {
    return this.claims.known(key);
  }

  /**
   * A command as typed (what follows `/iqsp` or the bot's mention), with the files given with
   * it; files the chat could not hand over refuse the command before it runs.
   */
  text(who: Invocation, text: string, files: AttachmentIntake | readonly AttachmentSource[] = []): Promise<Reply> {
    if ('ok' in files) {
      if (!files.ok) return Promise.resolve(privateReply(nothingPostedText(files.problems)));
      return this.deps.commands.runText(who, text, files.attachments);
    }
    return this.deps.commands.runText(who, text, files);
  }

  /** A command the chat already structured (Discord's options). */
  command(who: Invocation, command: Command, attachments: readonly AttachmentSource[] = []): Promise<Reply> {
    return this.deps.commands.run(who, command, attachments);
  }

  /** A ✅/❌ put on or taken off a message: a decision when the message is a post's approval message. */
  async reaction(event: ReactionEvent): Promise<void> {
    const decision = reactionDecision(event.mark, event.change);
    if (!decision) return;
    const decider = await event.decider();
    await this.deps.posts.decide({
      chat: event.chat,
      workspaceExternalId: event.workspaceExternalId,
      messageId: event.messageId,
      ...(event.channelId !== undefined ? { channelId: event.channelId } : {}),
      ...decider,
      decision,
      via: 'reaction',
      actedAt: event.actedAt,
    });
  }

  /** A button on one of the core's messages: Approve/Reject on an approval message, or the delete-my-data confirmation. */
  async button(press: ButtonPress): Promise<ButtonOutcome> {
    const action = buttonAction(press.actionId);
    if (!action) return { kind: 'ignored' };
    if (action.kind === 'confirm-delete-my-data') {
      const who = await press.invoker();
      const run = () => this.deps.commands.run(who, { kind: 'delete-my-data', confirmed: true });
      return { kind: 'answered', reply: await (press.within ? press.within(run) : run()) };
    }
    // Only a post of the workspace the press came from (its value can be forged): checked before
    // the chat is asked who pressed.
    if (!(await this.postOfWorkspace(press, press.value))) {
      this.deps.logger.warn(
        { postId: press.value, chat: press.chat },
        'a decision on a post of another workspace (or no post) was ignored',
      );
      return { kind: 'ignored' };
    }
    if (action.kind === 'edit') {
      const editable = await this.deps.posts.editable(await press.invoker(), press.value);
      return editable.ok
        ? { kind: 'edit', postId: press.value, content: editable.content }
        : { kind: 'answered', reply: privateReply(editable.text) };
    }
    if (press.messageId !== undefined && !(await this.isApprovalMessage(press.value, press.messageId)))
      return {
        kind: 'answered',
        reply: privateReply(
          `This is not the approval message of post ${press.value}: it was shown for approval again in another message of this channel. Approve or reject it there.`,
        ),
      };
    const decider = await press.decider();
    await this.deps.posts.decideOnPost(press.value, {
      chat: press.chat,
      workspaceExternalId: press.workspaceExternalId,
      ...decider,
      decision: action.decision,
      via: 'button',
      actedAt: press.actedAt,
    });
    return { kind: 'decided' };
  }

  /** Whether `messageId` is the approval message stored for the post. */
  private async isApprovalMessage(postId: string, messageId: string): Promise<boolean> {
    const post = await this.deps.db.selectFrom('posts').select('approval_message_id').where('id', '=', postId).executeTakeFirst();
    return post?.approval_message_id === messageId;
  }

  private async postOfWorkspace(workspace: ChatWorkspace, postId: string): Promise<boolean> {
    const post = await this.deps.db
      .selectFrom('posts')
      .innerJoin('workspaces', 'workspaces.id', 'posts.workspace_id')
      .select('posts.id')
      .where('posts.id', '=', postId)
      .where('workspaces.chat', '=', workspace.chat)
      .where('workspaces.external_id', '=', workspace.workspaceExternalId)
      .executeTakeFirst();
    return post !== undefined;
  }

  // ---- the post form ------------------------------------------------------------------------

  /**
   * What the post form offers in `workspace`, prefilled from what followed `post`
   * (`post x,tiktok:public Hello`: targets chosen, caption filled; anything else is the caption).
   * A `<when>` (`post x at 2026-12-07 09:30 Hello`) is read in the zone of `requester`, asked
   * only then; one that cannot be used (past, too far, in a daylight-saving gap) refuses the form
   * as `post` would, rather than open it without a time and publish as soon as approved.
   */
  async openPostForm(workspace: ChatWorkspace, text: string, requester?: () => Promise<Invocation>): Promise<PostFormOpening> {
    const workspaceId = await ensureWorkspace(this.deps.db, workspace.chat, workspace.workspaceExternalId);
    const accounts = await this.formAccounts(workspaceId);
    if (accounts.length === 0) return { kind: 'refused', text: REFUSALS.noAccountForForm };
    const parsed = this.deps.grammar.parseCommand(text);
    let values: PostFormValues = { caption: text.trim().replace(/^post\b\s*/i, '') };
    if (parsed.ok && parsed.command.kind === 'post') {
      const { targets } = await this.deps.posts.resolveTargets(workspaceId, parsed.command.targets);
      const privacy = targets.map((t) => t.options.privacy).find((value) => this.isPrivacy(value));
      const typed = parsed.command.when;
      const when = typed && requester ? await this.deps.posts.resolveWhen(await requester(), typed) : undefined;
      if (when && !when.ok) return { kind: 'refused', text: nothingPostedText([when.message]) };
      values = {
        caption: parsed.command.caption,
        accountIds: targets.map((t) => t.account.id),
        privacy,
        when: when?.at,
      };
    }
    return { kind: 'form', workspaceId, accounts, values };
  }

  /**
   * The privacy levels an opened post form may narrow its one select to, from what the platform
   * says the account allows (TikTok's creator_info); undefined to leave it as it is. One select
   * serves every account that needs a level, so it is narrowed only when it can speak for one
   * account: the only such account in the form, or the only one the form chose.
   */
  async postFormPrivacy(form: PostFormOpening & { kind: 'form' }): Promise<TargetOptionWord[] | undefined> {
    const needChoice = form.accounts.filter((a) => a.privacyFor).map((a) => a.id);
    const chosen = needChoice.filter((id) => form.values.accountIds?.includes(id));
    const account = needChoice.length === 1 ? needChoice[0] : chosen.length === 1 ? chosen[0] : undefined;
    if (!account) return undefined;
    const choices = (await this.deps.posts.targetOptionChoices(form.workspaceId, [account], AbortSignal.timeout(PRIVACY_LOOKUP_MS))).get(
      account,
    );
    if (!choices) return undefined;
    const allowed = this.privacyWords.filter((level): level is TargetOptionWord => this.isPrivacy(level) && choices.includes(level));
    if (allowed.length === 0 || allowed.length === this.privacyWords.length) return undefined;
    return allowed;
  }

  /** The accounts the post form offers to `who`'s workspace (to show the form again with its problems). */
  async postFormAccounts(who: Invocation): Promise<PostFormAccount[]> {
    return this.formAccounts((await ensureMember(this.deps.db, who)).workspaceId);
  }

  /**
   * A submitted post form: the accounts it names must be this workspace's; then the files (read
   * only once the accounts are known good), the media intake and every check, as `post` does.
   * `cannotPost` turns the chat's refusal to show the approval message into words for the form.
   */
  async submitPostForm(
    who: Invocation,
    form: PostForm,
    files: () => Promise<AttachmentIntake>,
    cannotPost: (error: unknown) => string | undefined = () => undefined,
  ): Promise<PostFormOutcome> {
    const { posts } = this.deps;
    const { workspaceId, userId } = await ensureMember(this.deps.db, who);
    const chosen = await this.deps.accounts.chosenIn(workspaceId, form.accountIds);
    if (chosen.length < form.accountIds.length || chosen.length === 0)
      return { kind: 'refused', problems: { targets: [REFUSALS.accountGone] } };
    // The time is checked before any file is read: one that cannot be is refused at once.
    const resolved = form.when ? await posts.resolveWhen(who, { kind: 'instant', at: form.when }) : undefined;
    if (resolved && !resolved.ok) return { kind: 'refused', problems: { when: [resolved.message] } };
    const schedule = resolved?.at ? { at: resolved.at, zone: resolved.zone } : undefined;
    // The form names accounts exactly; the platform's own account id is the @handle no other account shares.
    const specs: TargetSpec[] = chosen.map((a) => ({
      kind: 'handle',
      handle: a.platform_account_id,
      option: this.privacyFor(a.platform) ? form.privacy : undefined,
    }));

    const given = await files();
    if (!given.ok) return { kind: 'refused', problems: { media: given.problems } };
    const intake = await posts.takeInMedia(given.attachments, { workspaceId, uploadedById: userId });
    if ('problems' in intake) {
      // The targets are checked too, so the form shows every problem at once.
      const others = await posts.prepare(workspaceId, specs, form.caption, [], { mediaRefused: true });
      return { kind: 'refused', problems: { media: intake.problems, ...(others.ok ? {} : { targets: others.problems }) } };
    }
    const prepared = await posts.prepare(workspaceId, specs, form.caption, intake.media, { versions: form.versions });
    if (!prepared.ok) {
      await posts.discardMedia(intake.media);
      return { kind: 'refused', problems: { targets: prepared.problems } };
    }
    try {
      const postId = await posts.create(who, workspaceId, userId, prepared, intake.media, schedule);
      return { kind: 'created', postId };
    } catch (error) {
      const refusal = cannotPost(error);
      if (refusal !== undefined) return { kind: 'refused', problems: { targets: [refusal] } };
      throw error;
    }
  }

  /**
   * A submitted edit form (the post form opened by Edit): the caption and every platform's own
   * version as the form shows them, a blank version meaning the caption. What did not change is
   * left alone; the rest is an edit (posts/edits.ts).
   */
  async submitEditForm(
    who: Invocation,
    postId: string,
    form: { caption: string; versions: ReadonlyMap<Platform, string> },
  ): Promise<Reply> {
    // A field left as the form showed it changes nothing: a platform with two accounts, each with
    // its own version, shows one of them, and must not have it written over the other's.
    const current = await this.deps.posts.editable(who, postId);
    const shown = new Map(current.ok ? current.content.platforms.map((p) => [p.platform, p.version] as const) : []);
    const change: EditChange = {
      caption: form.caption,
      versions: [...form.versions]
        .filter(([platform, text]) => text.trim() !== (shown.get(platform) ?? '').trim())
        .map(([platform, text]) => ({ target: { kind: 'platform', platform }, text: text.trim() === '' ? null : text })),
    };
    return this.deps.posts.edit(who, postId, change);
  }

  /**
   * What each platform counts in `text`, for the live counts under a form's caption or version
   * field (issue 16): "X: 123 of 280 weighted characters", a thread as its parts ("X: thread of 3
   * posts: 120, 250, 291 of 280 weighted characters; part 3 is over"). A platform this install
   * does not publish to is left out.
   */
  textCounts(platforms: readonly Platform[], text: string): Array<{ platform: Platform; line: string; over: boolean }> {
    const lines: Array<{ platform: Platform; line: string; over: boolean }> = [];
    for (const platform of platforms) {
      const publisher = this.deps.publishers.get(platform);
      if (!publisher) continue;
      const measures = publisher.measureText(text);
      const over = measures.flatMap((m, i) => (m.used > m.limit ? [i + 1] : []));
      const first = measures[0];
      if (!first) continue;
      const count = (m: { used: number; limit: number; unit: string }) =>
        `${m.used.toLocaleString('en-US')} of ${m.limit.toLocaleString('en-US')} ${m.unit}`;
      const line =
        measures.length === 1 || !publisher.postsThreads
          ? `${publisher.displayName}: ${measures.map(count).join(', ')}`
          : `${publisher.displayName}: a thread of ${measures.length} posts: ${measures.map((m) => m.used.toLocaleString('en-US')).join(', ')} of ${first.limit.toLocaleString('en-US')} ${first.unit}${over.length > 0 ? `; part ${over.join(', ')} ${over.length === 1 ? 'is' : 'are'} over` : ''}`;
      lines.push({ platform, line, over: over.length > 0 });
    }
    return lines;
  }

  private async formAccounts(workspaceId: string): Promise<PostFormAccount[]> {
    const rows: SocialAccount[] = await this.deps.accounts.inWorkspace(workspaceId);
    return rows.map((a) => ({
      id: a.id,
      platform: a.platform,
      label: this.deps.accounts.label(a),
      privacyFor: this.privacyFor(a.platform),
    }));
  }

  /** The platform's name when its publisher needs a privacy level per post. */
  private privacyFor(platform: Platform): string | undefined {
    const publisher = this.deps.publishers.get(platform);
    return publisher?.requiresTargetOption ? publisher.displayName : undefined;
  }

  // ---- what is coming ---------------------------------------------------------------------------

  /** What `who`'s Home view shows: the workspace's upcoming posts and its latest 20 outcomes, in their zone. */
  async home(who: Omit<Invocation, 'channelId' | 'isAdmin'>): Promise<HomeView> {
    const member = await ensureMember(this.deps.db, { ...who, channelId: '', isAdmin: false });
    const { posts } = this.deps;
    const [{ zone }, upcoming, recent] = await Promise.all([
      posts.preferences.zoneOf(member, who.timeZone),
      posts.upcoming(member.workspaceId),
      posts.recent(member.workspaceId, 20),
    ]);
    return { zone, now: posts.now(), upcoming, recent };
  }

  // ---- the app's life in a workspace --------------------------------------------------------

  /** The app was removed from a workspace: its tokens go at once, the rest after the retention. */
  async workspaceRemoved(workspace: ChatWorkspace, reason: string): Promise<void> {
    await this.deps.dataRights.workspaceRemoved(workspace.chat, workspace.workspaceExternalId, reason);
  }
}
