/**
 * Two teammates react ✅ at the same moment on a post that needs two approvals. Each decision
 * reads the approvals so far and adds its own; without a lock both would read "none yet" and
 * the post would wait forever. On SQLite both decisions reach the same instance; on PostgreSQL
 * they reach two instances (two pools on one database), as with a load balancer.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCore, openServices } from '../../src/app.js';
import type { DecisionKind } from '../../src/core/approval.js';
import { createLogger } from '../../src/observability/logger.js';
import { onPostgres } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe(`simultaneous decisions on one post (${onPostgres ? 'two instances, PostgreSQL' : 'one instance, SQLite'})`, () => {
  it('two ✅ at once reach a quorum of two, every time, and the post is published once', async () => {
    h = await startHarness({ env: { APPROVALS_REQUIRED: '2' } });
    expect((await h.connect('x')).status).toBe(200);
    const other = onPostgres ? await openServices(h.app.services.config, createLogger('silent')) : undefined;
    try {
      // The second instance speaks in the same chat (as two Slack instances would).
      const posts = [h.app.core.posts, other ? buildCore(other, { chatPorts: { slack: h.chat } }).posts : h.app.core.posts];
      const png = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#3366cc' } })
        .png()
        .toBuffer();
      for (let i = 0; i < 5; i += 1) {
        const reply = await h.run('U_ADA', `post x Both at once ${i}`, {}, [{ name: 'both.png', body: png }]);
        const postId = /Post ([A-Z0-9]+) is waiting/.exec(reply.message.text)?.[1];
        expect(postId, reply.message.text).toBeDefined();
        const approval = h.chat.channel.find((m) => !m.threadId && m.message.text.startsWith(`Post ${postId} from`))!;
        const react = (at: number, user: string, decision: DecisionKind) =>
          posts[at]!.decide({
            chat: 'slack',
            workspaceExternalId: 'T1',
            messageId: approval.id,
            userExternalId: user,
            isBot: false,
            decision,
            via: 'reaction',
          });
        await Promise.all([react(0, 'U_BOB', 'approve'), react(1, 'U_CAROL', 'approve')]);

        const summary = await h.chat.waitFor(() => h!.chat.thread(approval.id).find((t) => t.startsWith(`Post ${postId}: `)), 15_000);
        expect(summary).toBe(`Post ${postId}: published (1 of 1 published).`);
        expect(h.chat.thread(approval.id).filter((t) => / \(2 of 2\): publishing now\.$/.test(t))).toHaveLength(1);
        expect(h.sims.x.published.filter((p) => p.text === `Both at once ${i}`)).toHaveLength(1);
      }
    } finally {
      await other?.db.destroy();
    }
  });
});
