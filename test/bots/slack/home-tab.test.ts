/**
 * The Home tab's memory of who opened it, with a fake Web API: bounded per workspace (the most
 * recent kept), forgotten after a day, and a refresh whose publish fails for one person is
 * logged while the others still get theirs. The end-to-end paths are in app-home.test.ts.
 */
import { Writable } from 'node:stream';
import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import type { SlackAuthorizer } from '../../../src/bots/slack/authorization.js';
import { HomeTab } from '../../../src/bots/slack/home-tab.js';
import type { HomeView } from '../../../src/core/inbound.js';
import { createLogger } from '../../../src/observability/logger.js';

function setup(options: { failFor?: string[]; homeFailsFor?: string[] } = {}) {
  let now = Date.UTC(2026, 11, 3, 10);
  const published: Array<{ user: string; zone: string }> = [];
  const logs: string[] = [];
  const client = {
    views: {
      publish: async (args: { user_id: string; view: { blocks: Array<{ elements?: Array<{ text: string }> }> } }) => {
        if (options.failFor?.includes(args.user_id))
          throw Object.assign(new Error('An API error occurred: user_not_found'), { data: { error: 'user_not_found' } });
        const context = args.view.blocks[1]?.elements?.[0]?.text ?? '';
        published.push({ user: args.user_id, zone: /\|[^>]* (\S+)>/.exec(context)?.[1] ?? '' });
        return { ok: true };
      },
    },
  } as unknown as WebClient;
  const auth = { forTeam: async () => ({ botToken: 'xoxb-test' }) } as unknown as SlackAuthorizer;
  const inbound = {
    home: async (who: { userExternalId: string; timeZone?: string | undefined }): Promise<HomeView> => {
      if (options.homeFailsFor?.includes(who.userExternalId)) throw new Error('the database is away');
      return { zone: who.timeZone ?? 'UTC', now: new Date(now), upcoming: [], recent: [] };
    },
  };
  const logger = createLogger('debug', new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }));
  const home = new HomeTab({ client, auth, inbound, logger }, { debounceMs: 5, now: () => now });
  const member = (timeZone?: string) => ({ timeZone, isOutsider: false });
  return {
    home,
    published,
    logs,
    member,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('HomeTab', () => {
  it('refreshes at most the 50 people of a workspace who opened it last, each in their zone', async () => {
    const { home, published, member } = setup();
    for (let i = 0; i < 55; i++) await home.opened('xoxb-test', 'T1', `U${i}`, member(i === 54 ? 'Europe/Berlin' : undefined));
    await home.opened('xoxb-test', 'T2', 'U0', member());
    published.length = 0;

    home.postsChanged('T1');
    await home.idle();
    expect(published.map((p) => p.user)).toEqual(Array.from({ length: 50 }, (_, i) => `U${i + 5}`));
    expect(published.at(-1)?.zone).toBe('CET');
    expect(published[0]?.zone).toBe('UTC');
  });

  it('forgets who opened it more than a day ago', async () => {
    const { home, published, member, advance } = setup();
    await home.opened('xoxb-test', 'T1', 'UOLD', member());
    advance(23 * 3600_000);
    await home.opened('xoxb-test', 'T1', 'URECENT', member());
    advance(2 * 3600_000);
    published.length = 0;

    home.postsChanged('T1');
    await home.idle();
    expect(published.map((p) => p.user)).toEqual(['URECENT']);
  });

  it('logs a refresh that fails for one person and still shows the others theirs; nothing is thrown', async () => {
    const { home, published, logs, member } = setup({ failFor: ['UGONE'], homeFailsFor: ['UBROKEN'] });
    for (const user of ['UA', 'UGONE', 'UBROKEN', 'UB']) await home.opened('xoxb-test', 'T1', user, member());
    published.length = 0;
    logs.length = 0;

    expect(() => home.postsChanged('T1')).not.toThrow();
    await home.idle();
    expect(published.map((p) => p.user)).toEqual(['UA', 'UB']);
    expect(logs.filter((l) => l.includes('could not publish a Home view'))).toHaveLength(2);
  });

  it('drops a refresh still waiting when it stops', async () => {
    const { home, published, member } = setup();
    await home.opened('xoxb-test', 'T1', 'UA', member());
    published.length = 0;
    home.postsChanged('T1');
    await home.stop();
    await home.idle();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(published).toEqual([]);
  });
});
