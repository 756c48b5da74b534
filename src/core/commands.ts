/**
 * One entry point for every chat command, shared by the Slack and Discord surfaces: text (or
 * an already-typed command) in, a reply out. Anything unexpected becomes a short apology with
 * a reference, never a stack trace.
 */
import { randomUUID } from 'node:crypto';
import type { Invocation, Reply } from './ports/chat.js';
import { privateReply } from './ports/chat.js';
import { joinRich, mention, rich } from './ports/rich-text.js';
import type { Db } from '../db/database.js';
import type { AttachmentSource } from '../media/service.js';
import type { Logger } from '../observability/logger.js';
import type { Publishers } from '../publishers/registry.js';
import type { AccountsService } from './accounts.js';
import { recentAudit } from './audit.js';
import type { ConnectService } from './connect.js';
import type { DataRightsService } from './data-rights.js';
import { ensureMember } from './directory.js';
import type { Command } from './grammar.js';
import type { Grammar } from './grammar.js';
import type { PostsService } from './posts.js';
import { type RateLimit, type RateLimiter, ruleInWords, waitInWords } from './rate-limit.js';
import type { SettingsService } from './settings.js';

export interface CommandDependencies {
  db: Db;
  publishers: Publishers;
  connect: ConnectService;
  accounts: AccountsService;
  dataRights: DataRightsService;
  posts: PostsService;
  settings: SettingsService;
  logger: Logger;
  /** The chat grammar over this install's platforms (the registry's). */
  grammar: Grammar;
  /** Commands each chat user may send (per instance); none when absent. */
  rateLimit?: RateLimiter;
  /** Where the privacy policy and terms are (this install's pages, or the operator's own), linked from `help`. */
  policies?: { privacy: string; terms: string };
}

/**
 * 30 commands a minute per chat user: more than a person types (a busy approver checking
 * `status` now and then stays far below), little enough that a script cannot flood.
 */
export const COMMAND_RATE_LIMIT: RateLimit = { limit: 30, windowMs: 60_000 };

export class CommandRouter {
  constructor(private readonly deps: CommandDependencies) {}

  /** Parses and runs `text` (what follows `/iqsp` or the bot's mention). */
  async runText(invocation: Invocation, text: string, attachments: readonly AttachmentSource[] = []): Promise<Reply> {
    const slowDown = this.overRateLimit(invocation);
    if (slowDown) return slowDown;
    const parsed = this.deps.grammar.parseCommand(text);
    if (!parsed.ok) return privateReply(parsed.message);
    return this.runAdmitted(invocation, parsed.command, attachments);
  }

  async run(invocation: Invocation, command: Command, attachments: readonly AttachmentSource[] = []): Promise<Reply> {
    return this.overRateLimit(invocation) ?? this.runAdmitted(invocation, command, attachments);
  }

  /**
   * Counts the command against its sender's limit: past it, a private word saying how long to
   * wait instead of running it (each command can download files, post and write; a script
   * sending them by the hundred would crowd out everyone else).
   */
  private overRateLimit(invocation: Invocation): Reply | undefined {
    const limiter = this.deps.rateLimit;
    if (!limiter) return undefined;
    const decision = limiter.take(`${invocation.chat}:${invocation.workspaceExternalId}:${invocation.userExternalId}`);
    if (decision.kind === 'allowed') return undefined;
    return privateReply(
      `You are sending commands faster than IQSP takes them from one person (at most ${ruleInWords(limiter.rule)}). Nothing was run; try again in ${waitInWords(decision.retryAfterMs)}.`,
    );
  }

  private async runAdmitted(invocation: Invocation, command: Command, attachments: readonly AttachmentSource[]): Promise<Reply> {
    try {
      return await this.dispatch(invocation, command, attachments);
    } catch (error) {
      const reference = randomUUID().slice(0, 8);
      this.deps.logger.error({ err: error, reference, command: command.kind }, 'command failed');
      return privateReply(
        `Sorry, something went wrong on IQSP's side while running \`${command.kind}\` (reference ${reference}). Nothing was half-done; try again in a minute.`,
      );
    }
  }

  private dispatch(invocation: Invocation, command: Command, attachments: readonly AttachmentSource[]): Promise<Reply> | Reply {
    switch (command.kind) {
      case 'help':
        return privateReply(
          [
            this.deps.grammar.helpText([...this.deps.publishers.values()].map((p) => p.displayName)),
            ...(this.deps.policies
              ? [`Privacy policy: ${this.deps.policies.privacy} · Terms of service: ${this.deps.policies.terms}`]
              : []),
          ].join('\n'),
        );
      case 'connect':
        return this.deps.connect.requestLink(invocation, command.platform);
      case 'accounts':
        return this.deps.accounts.list(invocation);
      case 'post':
        return this.deps.posts.request(invocation, command.targets, command.caption, attachments, command.when);
      case 'status':
        return this.deps.posts.status(invocation, command.postId);
      case 'cancel':
        return this.deps.posts.cancel(invocation, command.postId);
      case 'retry':
        return this.deps.posts.retry(invocation, command.postId);
      case 'verify':
        return this.deps.posts.verify(invocation, command.postId);
      case 'disconnect':
        return this.deps.accounts.disconnect(invocation, command.platform, command.handle);
      case 'data':
        return this.deps.dataRights.deliverExport(invocation);
      case 'delete-my-data':
        return this.deps.dataRights.deleteMyData(invocation, command.confirmed);
      case 'approvers':
        return command.action === 'list'
          ? this.deps.settings.listApprovers(invocation)
          : this.deps.settings.changeApprovers(invocation, command.action, command.users);
      case 'approvals':
        return this.deps.settings.setApprovals(invocation, command.count);
      case 'audit':
        return this.audit(invocation);
      case 'scheduled':
        return this.deps.posts.scheduled(invocation);
      case 'reschedule':
        return this.deps.posts.reschedule(invocation, command.postId, command.when);
      case 'edit':
        return this.deps.posts.edit(invocation, command.postId, {
          versions: command.target ? [{ target: command.target, text: command.text }] : [],
          ...(command.target ? {} : { caption: command.text ?? '' }),
        });
      case 'timezone':
        return this.deps.posts.preferences.timezone(invocation, command.scope, command.zone);
      case 'slots':
        return this.deps.posts.preferences.slotsCommand(invocation, command);
    }
  }

  private async audit(invocation: Invocation): Promise<Reply> {
    if (!invocation.isAdmin) return privateReply('Only a workspace admin can read the audit log.');
    const { workspaceId } = await ensureMember(this.deps.db, invocation);
    const entries = await recentAudit(this.deps.db, workspaceId, 20);
    if (entries.length === 0) return privateReply('The audit log of this workspace is empty.');
    const by = (e: (typeof entries)[number]) =>
      e.actorExternalId ? rich` by ${mention(e.actorExternalId)}` : e.actorId ? '' : ' (system)';
    const lines = entries.map((e) => rich`• ${e.at.replace('T', ' ').slice(0, 19)} ${e.action}${e.subject ? ` ${e.subject}` : ''}${by(e)}`);
    return privateReply(joinRich(['*Audit log (latest 20)*', ...lines], '\n'));
  }
}
