/**
 * Stopping `serve --role all` while a publish is in flight: the platform may still fetch the
 * post's media from `/media/:token` during the workers' grace period (Instagram downloads the
 * image when the container is created), so HTTP keeps answering until the workers have
 * finished or given back their jobs, and closes only then.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('stopping with --role all', () => {
  it('keeps serving /media until the running publish is over: Instagram fetches the image during the grace period and the post is published', async () => {
    h = await startHarness();
    expect((await h.connect('instagram', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
    const jpeg = await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#cc3366' } })
      .jpeg()
      .toBuffer();
    const reply = await h.run('U_ADA', 'post instagram Sent while stopping', {}, [{ name: 'stop.jpg', body: jpeg }]);
    const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(reply.message.text)?.[1];
    expect(postId, reply.message.text).toBeDefined();
    const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;

    // Instagram takes its time before downloading the image: the stop arrives in between.
    const createsContainer = (method: string, path: string) => method === 'POST' && /\/\d+\/media$/.test(path);
    h.sims.graph.faults.push({ match: createsContainer, kind: 'slow', ms: 1_500 });
    await h.app.core.posts.decide({
      chat: 'slack',
      workspaceExternalId: 'T1',
      messageId: approval.id,
      userExternalId: 'U_BOB',
      isBot: false,
      decision: 'approve',
      via: 'reaction',
    });
    await h.chat.waitFor(() => h!.sims.graph.requests.find((r) => createsContainer(r.method, r.path)), 10_000);

    const stopped = h.app.stop('SIGTERM');
    await stopped;

    expect(h.sims.graph.mediaFetches).toEqual([expect.objectContaining({ ok: true })]);
    expect(h.sims.graph.published.filter((p) => p.platform === 'instagram' && p.caption === 'Sent while stopping')).toHaveLength(1);
    expect(h.chat.thread(approval.id)).toContainEqual(expect.stringMatching(/^Instagram @acme: published https:\/\/\S+$/));
    // HTTP did close once the workers were done.
    await expect(fetch(`${h.base}/healthz`)).rejects.toThrow();
  });
});
