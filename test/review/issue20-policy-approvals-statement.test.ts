/**
 * Review 20: /privacy says "a person asks for a post in chat, teammates approve it, and IQSP
 * publishes it" and /terms "IQSP publishes posts your team approves". With APPROVALS_REQUIRED=0
 * (contract §2: "`0` publishes at once"; a workspace can also set it with `approvals 0`) nobody
 * approves anything: the post is published as soon as it is asked for. The pages are built from
 * the configuration for every other fact; this one is stated as always true and is not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { APPROVALS_REQUIRED: '0' } });
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
}, 60_000);
afterAll(() => h?.close());

async function textOf(path: string): Promise<string> {
  const html = await (await fetch(`${h.base}${path}`)).text();
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('/privacy and /terms with APPROVALS_REQUIRED=0', () => {
  it('do not say every post is approved by teammates, when this install publishes without any approval', async () => {
    await h.run('U_ADA', 'post x Published with nobody approving');
    const post = await h.app.services.db
      .selectFrom('posts')
      .select(['id', 'status'])
      .where('caption', '=', 'Published with nobody approving')
      .executeTakeFirstOrThrow();
    expect(post.status).not.toBe('pending_approval');
    expect(await h.app.services.db.selectFrom('approvals').select('id').where('post_id', '=', post.id).execute()).toEqual([]);

    expect(await textOf('/privacy')).not.toMatch(/a person asks for a post in chat, teammates approve it, and IQSP publishes it/);
    expect(await textOf('/terms')).not.toMatch(/IQSP publishes posts your team approves/);
  });
});
