/**
 * Two IQSP processes on one database take reactions at the same moment: Bob's ✅ reaches one,
 * Carol's ✅ the other, on every one of a batch of posts that need two approvals. Each decision
 * reads the approvals so far and records its own; on SQLite a plain `BEGIN` made the second
 * writer fail at once (SQLITE_BUSY_SNAPSHOT) after the chat had been answered, so the ✅ was
 * lost. Every decision must count, every post must be approved. The processes run the built
 * service (`npm run build` first); the test process runs a third, with the worker, which then
 * publishes.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { onPostgres } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { allAtOnce, startOnCue } from './process-on-cue.js';

const POSTS = 12;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe(`decisions taken by two processes at once (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('no ✅ is lost: every post reaches its quorum of two', async () => {
    h = await startHarness({ env: { APPROVALS_REQUIRED: '2' } });
    expect((await h.connect('x')).status).toBe(200);
    const png = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    const posts: Array<{ postId: string; messageId: string }> = [];
    for (let i = 0; i < POSTS; i += 1) {
      const reply = await h.run('U_ADA', `post x Two processes ${i}`, {}, [{ name: 'both.png', body: png }]);
      const postId = /Post ([A-Z0-9]+) is waiting/.exec(reply.message.text)?.[1];
      expect(postId, reply.message.text).toBeDefined();
      const approval = h.chat.channel.find((m) => !m.threadId && m.message.text.startsWith(`Post ${postId} from`))!;
      posts.push({ postId: postId!, messageId: approval.id });
    }

    const env = {
      ...h.sims.env,
      DATABASE_URL: h.databaseUrl,
      PUBLIC_URL: h.base,
      MEDIA_DIR: path.join(h.dir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      APPROVALS_REQUIRED: '2',
      LOG_LEVEL: 'silent',
    };
    const messageIds = posts.map((p) => p.messageId);
    const decider = (user: string) => startOnCue<string[]>('decide-in-another-process.mjs', [user, 'approve', ...messageIds], env);
    const outcomes = await allAtOnce([decider('U_BOB'), decider('U_CAROL')]);
    expect(outcomes).toEqual([messageIds.map(() => 'ok'), messageIds.map(() => 'ok')]);

    const db = h.app.services.db;
    for (const { postId } of posts) {
      const counted = await db.selectFrom('approvals').select('decision').where('post_id', '=', postId).where('counted', '=', 1).execute();
      expect(counted, postId).toHaveLength(2);
      const post = await db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow();
      expect(['approved', 'publishing', 'published'], `${postId}: ${post.status}`).toContain(post.status);
    }
  }, 120_000);
});
