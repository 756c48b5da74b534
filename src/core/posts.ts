/**
 * A post's life before publishing, as one service the chat surfaces, the commands and the jobs
 * call: the request (targets resolved, every target validated, the approval message), the
 * decisions (✅/❌, buttons) folded through the approval state machine, the `status`, `cancel`,
 * `retry` commands, and the post's ending. Publishing itself is in publishing.ts; this service
 * only enqueues it.
 *
 * A thin facade: each responsibility lives in src/core/posts/ (intake, decisions, expiry,
 * commands, settlement, thread), the transitions they apply are decided by lifecycle.ts, and
 * the queries are in src/db/repositories/.
 */
import type { ClaimedJob } from '../jobs/queue.js';
import type { JobDecision } from '../jobs/worker.js';
import type { ChatMessage, Invocation, Reply, RichText } from './ports/chat.js';
import type { PostStatus } from '../db/schema.js';
import type { MediaInfo } from '../media/media.js';
import type { AttachmentSource } from '../media/service.js';
import type { TargetSpec } from './grammar.js';
import { Notices } from './notices.js';
import { PostCommands } from './posts/commands.js';
import type { PostsContext, PostsDependencies } from './posts/context.js';
import { PostDecisions, type DecisionInput } from './posts/decisions.js';
import { PostExpiry } from './posts/expiry.js';
import { PostIntake, type Preparation, type ResolvedTarget, type Schedule } from './posts/intake.js';
import type { Resolution } from './schedule/when.js';
import { PostSettlement } from './posts/settlement.js';
import { PostVerification } from './posts/verify.js';
import { PostThread } from './posts/thread.js';
import { PostEdits, type EditChange, type EditableContent } from './posts/edits.js';
import { PostSchedule, type RecentOutcome, type UpcomingPost } from './posts/schedule.js';
import type { When } from './schedule/when.js';
import { SchedulePreferences } from './schedule/preferences.js';

export { FINAL_TARGET_STATUSES } from './lifecycle.js';
export {
  MAX_ATTACHMENTS,
  newPostId,
  platformOfPublishGroup,
  publishGroupKey,
  publishGroupLimit,
  publishJobKey,
  PUBLISH_QUEUE,
  type PostsDependencies,
} from './posts/context.js';
export type { DecisionInput } from './posts/decisions.js';
export type { Preparation, Schedule } from './posts/intake.js';
export type { EditChange, EditableContent, VersionChange } from './posts/edits.js';
export { targetLine } from './posts/texts.js';
export { VERIFY_DELAY_MS, VERIFY_QUEUE, verifyJobKey } from './posts/verify.js';
export { POST_DUE_QUEUE, type RecentOutcome, type UpcomingPost } from './posts/schedule.js';

export class PostsService {
  private readonly notices: Notices;
  private readonly thread: PostThread;
  private readonly intake: PostIntake;
  private readonly decisions: PostDecisions;
  private readonly settlement: PostSettlement;
  private readonly expiry: PostExpiry;
  private readonly commands: PostCommands;
  private readonly schedule: PostSchedule;
  private readonly edits: PostEdits;
  private readonly verification: PostVerification;
  private readonly clock: () => Date;
  /** Zones and posting slots (the `timezone` and `slots` commands). */
  readonly preferences: SchedulePreferences;

  constructor(deps: PostsDependencies) {
    const now = deps.now ?? (() => new Date());
    this.clock = now;
    this.thread = new PostThread(deps);
    this.notices = new Notices({
      db: deps.db,
      queue: deps.queue,
      say: (postId, text) => this.say(postId, text),
      logger: deps.logger,
      now,
      ...deps.notices,
    });
    const ctx: PostsContext = { deps, now, notices: this.notices };
    this.preferences = deps.preferences ?? new SchedulePreferences({ db: deps.db, defaultZone: 'UTC', maxDays: 30, now });
    this.decisions = new PostDecisions(ctx, this.thread);
    this.schedule = new PostSchedule(ctx, this.thread, this.decisions, this.preferences);
    this.intake = new PostIntake(ctx, this.thread, this.schedule);
    this.settlement = new PostSettlement(ctx, this.thread);
    this.expiry = new PostExpiry(ctx, this.thread, this.decisions, this.settlement, this.intake);
    this.commands = new PostCommands(ctx, this.thread, this.settlement);
    this.edits = new PostEdits(ctx, this.thread, this.intake);
    this.verification = new PostVerification(ctx, this.settlement);
  }

  /** The notice worker's handler (NOTICE_QUEUE): says again what the chat did not take. */
  get handleNotice() {
    return this.notices.handle;
  }

  /**
   * Says `text` in the post's thread and keeps saying it until the chat takes it (a notice on the
   * durable queue). For what must not be lost, such as a retry's notice; `key` makes repeated
   * calls for the same event one notice.
   */
  async tell(postId: string, text: RichText, key?: string): Promise<void> {
    await this.notices.tell(postId, text, key);
  }

  /** Says now the post's notices still queued whose key starts with `keyPrefix` (notices.ts `sayQueued`). */
  async sayQueuedNotices(postId: string, keyPrefix: string): Promise<void> {
    await this.notices.sayQueued(postId, keyPrefix);
  }

  // Request intake (posts/intake.ts).

  /** The privacy levels each of `accountIds` may post with now, where its platform needs a choice. */
  targetOptionChoices(workspaceId: string, accountIds: readonly string[], signal?: AbortSignal): Promise<Map<string, string[]>> {
    return this.intake.targetOptionChoices(workspaceId, accountIds, signal);
  }

  /** Resolves `<targets>` against the workspace's accounts. Returns problems for what does not resolve. */
  resolveTargets(workspaceId: string, specs: readonly TargetSpec[]): Promise<{ targets: ResolvedTarget[]; problems: string[] }> {
    return this.intake.resolveTargets(workspaceId, specs);
  }

  /** Validates a request for every target before anything else; lists every problem, per target. */
  prepare(
    workspaceId: string,
    specs: readonly TargetSpec[],
    caption: string,
    media: readonly MediaInfo[],
    options: { mediaRefused?: boolean; versions?: ReadonlyMap<string, string> | undefined } = {},
  ): Promise<Preparation> {
    return this.intake.prepare(workspaceId, specs, caption, media, options);
  }

  /** Downloads the attachments, refusing the whole request (and keeping nothing) if one is unusable. */
  takeInMedia(
    attachments: readonly AttachmentSource[],
    owner: { workspaceId: string; uploadedById: string },
  ): Promise<{ media: MediaInfo[] } | { problems: string[] }> {
    return this.intake.takeInMedia(attachments, owner);
  }

  discardMedia(media: readonly MediaInfo[]): Promise<void> {
    return this.intake.discardMedia(media);
  }

  /** `post <targets> [<when>] <caption>` with attachments: validate, then post the approval message. */
  request(
    invocation: Invocation,
    specs: readonly TargetSpec[],
    caption: string,
    attachments: readonly AttachmentSource[],
    when?: When,
    versions?: ReadonlyMap<string, string>,
  ): Promise<Reply> {
    return this.intake.request(invocation, specs, caption, attachments, when, versions);
  }

  /** The instant `when` names for this person (in their zone), or why it cannot be used; `now` gives no time. */
  resolveWhen(invocation: Invocation, when: When): Promise<Resolution> {
    return this.intake.resolveWhen(invocation, when);
  }

  /** Creates the post from a valid preparation and posts its approval message. Returns the post id. */
  create(
    invocation: Invocation,
    workspaceId: string,
    userId: string,
    prepared: Extract<Preparation, { ok: true }>,
    media: readonly MediaInfo[],
    schedule?: Schedule,
  ): Promise<string> {
    return this.intake.create(invocation, workspaceId, userId, prepared, media, schedule);
  }

  // The thread (posts/thread.ts).

  /** The approval message (and its later updates): post id, requester, targets, caption, media, how to approve. */
  approvalMessage(postId: string, outcome: 'pending' | PostStatus, note?: string): Promise<ChatMessage> {
    return this.thread.approvalMessage(postId, outcome, note);
  }

  /** Replies in the post's thread; resolves false when the chat refused or could not be reached. */
  say(postId: string, text: RichText): Promise<boolean> {
    return this.thread.say(postId, text);
  }

  /** Upload progress: one message per post in its thread, updated in place. */
  showProgress(postId: string, line: string): Promise<void> {
    return this.thread.showProgress(postId, line);
  }

  /** Re-renders the approval message with the post's current outcome. */
  async refreshApprovalMessage(postId: string, outcome: 'pending' | PostStatus, note?: string): Promise<void> {
    await this.thread.refreshApprovalMessage(postId, outcome, note);
  }

  // Decisions and expiry (posts/decisions.ts, posts/expiry.ts).

  /** A ✅/❌ (or its removal, or a button) on an approval message. */
  decide(input: DecisionInput): Promise<void> {
    return this.decisions.decide(input);
  }

  decideOnPost(postId: string, input: Omit<DecisionInput, 'messageId'>, knownUserId?: string): Promise<void> {
    return this.decisions.decideOnPost(postId, input, knownUserId);
  }

  /** Expires a pending request whose time is up (cleanup, or a late decision). */
  expire(postId: string): Promise<boolean> {
    return this.decisions.expire(postId);
  }

  /** The expiry check (cleanup). Returns the ids of the posts expired. */
  expireDue(): Promise<string[]> {
    return this.expiry.expireDue();
  }

  // Commands (posts/commands.ts).

  /** `status <post-id>`: the post and each target's state, link or reason. */
  status(invocation: Invocation, postId: string): Promise<Reply> {
    return this.commands.status(invocation, postId);
  }

  /** `cancel <post-id>`: the requester or an admin; only what has not started publishing. */
  cancel(invocation: Invocation, postId: string): Promise<Reply> {
    return this.commands.cancel(invocation, postId);
  }

  /** `retry <post-id>`: the requester or an admin; targets that failed retryably (or for access, once reconnected). */
  retry(invocation: Invocation, postId: string): Promise<Reply> {
    return this.commands.retry(invocation, postId);
  }

  /** `verify <post-id>`: asks each platform whether the post's unconfirmed targets are live (posts/verify.ts). */
  verify(invocation: Invocation, postId: string): Promise<Reply> {
    return this.verification.verify(invocation, postId);
  }

  /**
   * Verifies one unconfirmed target without a command (the automatic verification after a target
   * becomes unconfirmed): said in the thread, and the post settled again when it changed.
   */
  verifyTarget(postId: string, targetId: string): Promise<void> {
    return this.verification.verifyOne(postId, targetId);
  }

  /** The automatic verification's handler (VERIFY_QUEUE): one target, once; it never publishes. */
  readonly handleVerify = async (job: ClaimedJob): Promise<JobDecision> => {
    await this.verification.verifyOne(String(job.payload.postId), String(job.payload.targetId));
    return { kind: 'done' };
  };

  // Scheduling (posts/schedule.ts).

  /** The posts service's clock. */
  now(): Date {
    return this.clock();
  }

  /** The due job's handler (POST_DUE_QUEUE): a post nobody approved by its time expires. */
  get handleDue() {
    return this.schedule.handleDue;
  }

  /** `scheduled`: the workspace's upcoming posts, times in the caller's zone. */
  scheduled(invocation: Invocation): Promise<Reply> {
    return this.schedule.scheduled(invocation);
  }

  /** `reschedule <post-id> <when|now>`: moves a post that has not started publishing; approvals kept. */
  reschedule(invocation: Invocation, postId: string, when: When): Promise<Reply> {
    return this.schedule.reschedule(invocation, postId, when);
  }

  /** The workspace's upcoming scheduled posts (Slack's App Home). */
  upcoming(workspaceId: string, limit?: number): Promise<UpcomingPost[]> {
    return this.schedule.upcoming(workspaceId, limit);
  }

  /** The workspace's latest finished posts (Slack's App Home). */
  recent(workspaceId: string, limit?: number): Promise<RecentOutcome[]> {
    return this.schedule.recent(workspaceId, limit);
  }

  // Edits (posts/edits.ts).

  /** `edit <post-id> [<target>] <caption>`: the requester changes the caption or a target's version before publishing; approvals start over. */
  edit(invocation: Invocation, postId: string, change: EditChange): Promise<Reply> {
    return this.edits.edit(invocation, postId, change);
  }

  /** What the post form shows to edit a post (its caption and each platform's version), or why it cannot be edited. */
  editable(invocation: Invocation, postId: string): Promise<{ ok: true; content: EditableContent } | { ok: false; text: string }> {
    return this.edits.editable(invocation, postId);
  }

  // Settlement (posts/settlement.ts).

  /** Called when a target reaches a final state: once every target is, the post gets its outcome and summary. */
  onTargetSettled(postId: string): Promise<void> {
    return this.settlement.onTargetSettled(postId);
  }
}
