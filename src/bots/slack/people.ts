/**
 * Who a Slack user is, as far as the core needs: admin (workspace admins and owners, from
 * users.info), bot or person, outsider or member, and a name. Kept a short while so a burst of
 * commands or reactions asks Slack once.
 *
 * Outsiders are guests (`is_restricted`: multi-channel, `is_ultra_restricted`: single-channel)
 * and people of another organization: a Slack Connect channel shows their ✅ like anyone's, but
 * users.info gives their own team (`team_id`), or marks them `is_stranger`. They decide on posts
 * only when an admin lists them as approvers. In an Enterprise Grid org a person's `team_id` can
 * be a sibling workspace of the same org (`enterprise_user.enterprise_id`): not an outsider.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../observability/logger.js';
import { canonicalZone } from '../../core/schedule/zones.js';

export interface SlackPerson {
  isAdmin: boolean;
  isBot: boolean;
  /** A guest, or someone from another organization (Slack Connect). */
  isOutsider: boolean;
  name: string | undefined;
  /** Their profile's IANA zone (`tz`), canonical; undefined when Slack gives none or one this runtime does not know. */
  timeZone: string | undefined;
}

interface SlackUserFields {
  team_id?: string;
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  is_stranger?: boolean;
  is_bot?: boolean;
  enterprise_user?: { enterprise_id?: string };
}

/** Whether a users.info user is a guest or from outside the workspace `teamId` (and its org `enterpriseId`). */
export function isOutsider(user: SlackUserFields, teamId: string, enterpriseId?: string): boolean {
  if (user.is_restricted === true || user.is_ultra_restricted === true || user.is_stranger === true) return true;
  if (user.is_bot === true || !user.team_id || user.team_id === teamId) return false;
  return !(enterpriseId !== undefined && user.enterprise_user?.enterprise_id === enterpriseId);
}

/** At most this many people are kept; the least recently asked are forgotten first. */
const PEOPLE_KEPT = 10_000;

export class SlackPeople {
  /** Least recently used first (a Map keeps insertion order; a hit moves its entry to the end). */
  private readonly cache = new Map<string, { person: SlackPerson; until: number }>();
  /** users.info calls on their way: a burst from one person waits for the same answer. */
  private readonly asking = new Map<string, Promise<SlackPerson>>();

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    /** Short: admin rights come from here, and an admin removed in Slack must stop being one soon. */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(token: string, teamId: string, userId: string, enterpriseId?: string): Promise<SlackPerson> {
    const key = `${teamId}:${userId}:${enterpriseId ?? ''}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      if (cached.until > this.now()) {
        this.cache.set(key, cached);
        return Promise.resolve(cached.person);
      }
    }
    const asked = this.asking.get(key);
    if (asked) return asked;
    const asking = this.ask(token, teamId, userId, enterpriseId, key).finally(() => this.asking.delete(key));
    this.asking.set(key, asking);
    return asking;
  }

  private async ask(token: string, teamId: string, userId: string, enterpriseId: string | undefined, key: string): Promise<SlackPerson> {
    let person: SlackPerson;
    try {
      const { user } = await this.client.users.info({ token, user: userId });
      person = {
        isAdmin: user?.is_admin === true || user?.is_owner === true || user?.is_primary_owner === true,
        isBot: user?.is_bot === true,
        isOutsider: user ? isOutsider(user, teamId, enterpriseId) : true,
        name: user?.profile?.display_name || user?.real_name || user?.name || undefined,
        timeZone: typeof user?.tz === 'string' ? canonicalZone(user.tz) : undefined,
      };
    } catch (error) {
      // Without users.info nobody is an admin, and nobody unlisted decides on a post: the safe side.
      this.logger.warn({ err: error, teamId, userId }, 'users.info failed; treating the user as an outsider without admin rights');
      return { isAdmin: false, isBot: false, isOutsider: true, name: undefined, timeZone: undefined };
    }
    this.cache.set(key, { person, until: this.now() + this.ttlMs });
    if (this.cache.size > PEOPLE_KEPT) this.cache.delete(this.cache.keys().next().value!);
    return person;
  }
}
