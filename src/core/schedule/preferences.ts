/**
 * Whose clock a time is read on, and the workspace's posting slots: the `timezone` and `slots`
 * commands, and the zone of a person (their chat's profile zone, else the one they set, else
 * their workspace's, else DEFAULT_TIMEZONE).
 */
import type { Invocation, Reply } from '../ports/chat.js';
import { privateReply } from '../ports/chat.js';
import type { Db } from '../../db/database.js';
import { isoNow } from '../../db/database.js';
import {
  heldTimes,
  personZone,
  setPersonZone,
  setWorkspaceSlots,
  setWorkspaceZone,
  workspaceSchedule,
} from '../../db/repositories/schedule.js';
import { appendAudit } from '../audit.js';
import { ensureMember, type Member } from '../directory.js';
import { describeSlots, nextFreeSlot, slotsFromJson, type PostingSlots } from './slots.js';
import { formatInZone } from './zones.js';

export interface SchedulePreferencesOptions {
  db: Db;
  /** DEFAULT_TIMEZONE */
  defaultZone: string;
  /** SCHEDULE_MAX_DAYS */
  maxDays: number;
  now: () => Date;
}

/** Where a person's zone came from, to say it back. */
export type ZoneSource = 'chat' | 'person' | 'workspace' | 'default';

export class SchedulePreferences {
  constructor(private readonly options: SchedulePreferencesOptions) {}

  get maxDays(): number {
    return this.options.maxDays;
  }

  /** The zone a person's times are read and shown in. `chatZone`: what their chat's profile says (Slack `users.info` `tz`). */
  async zoneOf(member: Member, chatZone?: string): Promise<{ zone: string; source: ZoneSource }> {
    if (chatZone) return { zone: chatZone, source: 'chat' };
    const own = await personZone(this.options.db, member.userId);
    if (own) return { zone: own, source: 'person' };
    const workspace = await this.workspaceZone(member.workspaceId);
    return { zone: workspace, source: workspace === this.options.defaultZone ? 'default' : 'workspace' };
  }

  async workspaceZone(workspaceId: string): Promise<string> {
    return (await workspaceSchedule(this.options.db, workspaceId)).zone ?? this.options.defaultZone;
  }

  async slots(workspaceId: string): Promise<PostingSlots | undefined> {
    return slotsFromJson((await workspaceSchedule(this.options.db, workspaceId)).slots);
  }

  /** The workspace's first posting slot after now that no upcoming post holds. */
  async nextSlot(workspaceId: string): Promise<Date | undefined> {
    const slots = await this.slots(workspaceId);
    if (!slots) return undefined;
    const now = this.options.now();
    const held = await heldTimes(this.options.db, workspaceId, isoNow(now));
    return nextFreeSlot(slots, await this.workspaceZone(workspaceId), now, this.options.maxDays, held);
  }

  /** `timezone`, `timezone <zone>`, `timezone workspace [<zone>]`. */
  async timezone(invocation: Invocation, scope: 'person' | 'workspace', zone: string | undefined): Promise<Reply> {
    const member = await ensureMember(this.options.db, invocation);
    const now = this.options.now();
    const example = (z: string) => `it is ${formatInZone(now, z, now)} there now`;
    if (scope === 'workspace') {
      if (zone === undefined) {
        const current = await this.workspaceZone(member.workspaceId);
        return privateReply(`This workspace's time zone is ${current} (${example(current)}); its posting slots are read in it.`);
      }
      if (!invocation.isAdmin) return privateReply("Only a workspace admin can change the workspace's time zone.");
      await setWorkspaceZone(this.options.db, member.workspaceId, zone, isoNow(now));
      await appendAudit(this.options.db, {
        action: 'settings.changed',
        workspaceId: member.workspaceId,
        actorId: member.userId,
        detail: { setting: 'time_zone', value: zone },
      });
      return privateReply(`This workspace's time zone is now ${zone} (${example(zone)}).`);
    }
    if (zone === undefined) {
      const { zone: current, source } = await this.zoneOf(member, invocation.timeZone);
      const from = {
        chat: 'from your chat profile',
        person: 'as you set it',
        workspace: "the workspace's",
        default: "this install's default",
      }[source];
      return privateReply(`Your time zone is ${current}, ${from} (${example(current)}). Set yours with \`timezone Europe/Berlin\`.`);
    }
    await setPersonZone(this.options.db, member.userId, zone, isoNow(now));
    const profile =
      invocation.timeZone && invocation.timeZone !== zone
        ? ` Your chat profile says ${invocation.timeZone}, and IQSP reads your times in that one first: change it in your profile to use ${zone}.`
        : '';
    return privateReply(`Your time zone is now ${zone} (${example(zone)}).${profile}`);
  }

  /** `slots`, `slots <days> <times>`, `slots off`. */
  async slotsCommand(
    invocation: Invocation,
    change: { action: 'show' } | { action: 'set'; slots: PostingSlots } | { action: 'off' },
  ): Promise<Reply> {
    const member = await ensureMember(this.options.db, invocation);
    const zone = await this.workspaceZone(member.workspaceId);
    if (change.action === 'show') {
      const slots = await this.slots(member.workspaceId);
      if (!slots) return privateReply('This workspace has no posting slots. An admin sets them with `slots mon-fri 09:00,13:00`.');
      const next = await this.nextSlot(member.workspaceId);
      const nextText = next ? ` The next free one is ${formatInZone(next, zone, this.options.now())}.` : '';
      return privateReply(
        `Posting slots: ${describeSlots(slots)} (${zone}). \`post <targets> next <caption>\` takes the next free one.${nextText}`,
      );
    }
    if (!invocation.isAdmin) return privateReply('Only a workspace admin can change the posting slots.');
    const now = isoNow(this.options.now());
    const json = change.action === 'set' ? JSON.stringify(change.slots) : null;
    await setWorkspaceSlots(this.options.db, member.workspaceId, json, now);
    await appendAudit(this.options.db, {
      action: 'settings.changed',
      workspaceId: member.workspaceId,
      actorId: member.userId,
      detail: { setting: 'posting_slots', value: change.action === 'set' ? describeSlots(change.slots) : 'off' },
    });
    if (change.action === 'off') return privateReply('Posting slots are off: `post … next` needs slots again to work.');
    return privateReply(`Posting slots are now ${describeSlots(change.slots)} (${zone}).`);
  }
}
