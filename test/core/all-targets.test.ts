/**
 * `all` means every connected account that can take this post: with YouTube (videos only) among
 * them, `post all` with an image goes to the others, and the thread says which were left out and
 * why; an account named by a platform word or @handle is never left out (its problem refuses the
 * request, as before); with nothing left, the reasons are the answer and nothing is created.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let png: Buffer;

beforeAll(async () => {
  h = await startHarness();
  png = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();
}, 60_000);
afterAll(() => h?.close());

const postIdIn = (text: string) => /Post ([A-Z0-9]+) is waiting for approval/.exec(text)?.[1];
const posts = () => h.app.services.db.selectFrom('posts').select('id').execute();

describe('post all', () => {
  it('with only YouTube connected and an image: refused with YouTube’s reason, nothing created', async () => {
    expect((await h.connect('youtube')).status).toBe(200);
    const reply = await h.run('U_ADA', 'post all A picture', {}, [{ name: 'a.png', body: png }]);
    expect(reply.message.text).toMatch(/YouTube @\S+: .*video/i);
    expect(postIdIn(reply.message.text)).toBeUndefined();
    expect(await posts()).toEqual([]);
  });

  it('with X too: the image goes to X, and the thread says YouTube was left out and why', async () => {
    expect((await h.connect('x')).status).toBe(200);
    const reply = await h.run('U_ADA', 'post all A picture for everyone who takes pictures', {}, [{ name: 'b.png', body: png }]);
    const postId = postIdIn(reply.message.text);
    expect(postId, reply.message.text).toBeDefined();
    const targets = await h.app.services.db.selectFrom('post_targets').select('platform').where('post_id', '=', postId!).execute();
    expect(targets.map((t) => t.platform)).toEqual(['x']);
    const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;
    expect(h.chat.thread(approval.id)).toContainEqual(
      expect.stringMatching(/^Left out of "all", as they cannot take this post: YouTube @\S+ \(.*video.*\)$/i),
    );
  });

  it('YouTube named as well as all: not left out, so its problem refuses the request', async () => {
    const before = (await posts()).length;
    const reply = await h.run('U_ADA', 'post all,youtube A picture', {}, [{ name: 'c.png', body: png }]);
    expect(reply.message.text).toMatch(/YouTube @\S+: .*video/i);
    expect(postIdIn(reply.message.text)).toBeUndefined();
    expect((await posts()).length).toBe(before);
  });
});
