/**
 * Review 20: after Meta's data deletion request for a person, IQSP still holds what it obtained
 * from Meta about that person's Page: every post target published there keeps the Page's name
 * (`post_targets.account_label`, "Facebook Acme Inc"), the Graph post id and the permalink, and
 * the status page says the request is "done". Meta's callback asks for the data received from
 * Facebook about that person to be deleted; only the account row and its tokens go
 * (`PlatformNotices.receive` → `AccountsService.deleteAccount`; `post_targets.account_id` is
 * merely set null).
 */
import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_META_USERS } from '../../src/simulators/graph-model.js';
import { everyRowAsText, onPostgres } from '../helpers/db.js';
import { rawStorageText, startHarness, type Harness } from '../helpers/harness.js';

const ADA = DEFAULT_META_USERS[0]!.id;
const APP_SECRET = 'sim-meta-app-secret';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(() => h?.close());

function signedRequest(payload: Record<string, unknown>): string {
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${createHmac('sha256', APP_SECRET).update(encoded).digest('base64url')}.${encoded}`;
}

describe('POST /oauth/facebook/data-deletion', () => {
  it('leaves nothing IQSP obtained from Meta about that person’s Page: its name, its post ids, its permalinks', async () => {
    expect((await h.connect('facebook', 'U_ADA', { account: ADA, pages: ['100000000000001'] })).status).toBe(200);
    const page = await h.app.services.db
      .selectFrom('social_accounts')
      .selectAll()
      .where('platform', '=', 'facebook')
      .executeTakeFirstOrThrow();
    const reply = await h.run('U_ADA', 'post facebook Published before the person asked Meta to delete their data');
    const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(reply.message.text)?.[1];
    expect(postId, reply.message.text).toBeDefined();
    await h.approve(postId!);
    let target: { status: string; platform_post_id: string | null; permalink: string | null } | undefined;
    for (let i = 0; i < 200; i++) {
      target = await h.app.services.db
        .selectFrom('post_targets')
        .select(['status', 'platform_post_id', 'permalink'])
        .where('post_id', '=', postId!)
        .executeTakeFirst();
      if (target?.status === 'published') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(target?.status).toBe('published');
    const graphPostId = target!.platform_post_id!;
    expect(graphPostId).toBeTruthy();

    const answer = await fetch(`${h.base}/oauth/facebook/data-deletion`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `signed_request=${encodeURIComponent(
        signedRequest({ algorithm: 'HMAC-SHA256', issued_at: Math.floor(Date.now() / 1000), user_id: ADA }),
      )}`,
    });
    expect(answer.status).toBe(200);

    if (!onPostgres) await sql`pragma wal_checkpoint(TRUNCATE)`.execute(h.app.services.db);
    const raw = rawStorageText(h.dir) + (onPostgres ? await everyRowAsText(h.app.services.db) : '');
    expect(raw.includes(page.display_name!), `the Page's name "${page.display_name}" is still stored`).toBe(false);
    expect(raw.includes(graphPostId), `the Page's post id ${graphPostId} is still stored`).toBe(false);
  });
});
