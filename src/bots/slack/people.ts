/**
 * Who a Slack user is, as far as the core needs: admin (workspace admins and owners, from
 * users.info), bot or person, and a name. Kept a short while so a burst of commands or
 * reactions asks Slack once.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../observability/logger.js';

export interface SlackPerson {
  isAdmin: boolean;
  isBot: boolean;
  name: string | undefined;
}

export class SlackPeople {
  private readonly cache = new Map<string, { person: SlackPerson; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    private readonly ttlMs: number,
  ) {}

  async lookup(token: string, teamId: string, userId: string): Promise<SlackPerson> {
    const key = `${teamId}:${userId}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.person;
    let person: SlackPerson;
    try {
      const { user } = await this.client.users.info({ token, user: userId });
      person = {
        isAdmin: user?.is_admin === true || user?.is_owner === true || user?.is_primary_owner === true,
        isBot: user?.is_bot === true,
        name: user?.profile?.display_name || user?.real_name || user?.name || undefined,
      };
    } catch (error) {
      // Without users.info nobody is an admin: the safe side.
      this.logger.warn({ err: error, teamId, userId }, 'users.info failed; treating the user as a member without admin rights');
      return { isAdmin: false, isBot: false, name: undefined };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { person, until: Date.now() + this.ttlMs });
    return person;
  }
}
