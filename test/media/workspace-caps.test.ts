/**
 * Issue 13, finding 11 (per-workspace caps): one workspace cannot run more than
 * WORKSPACE_MEDIA_CAPS.concurrentDownloads attachment downloads at once, nor keep more than
 * WORKSPACE_MEDIA_CAPS.storedBytes of media; past either, `post` answers with a message naming
 * the limit, and other workspaces are not held back. Driven through the chat commands.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterEach, expect, it } from 'vitest';
import { ensureUser, ensureWorkspace } from '../../src/core/directory.js';
import { isoNow } from '../../src/db/database.js';
import { WORKSPACE_MEDIA_CAPS } from '../../src/media/service.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { invocation } from '../helpers/memory-chat.js';

let h: Harness | undefined;
let slow: Server | undefined;
afterEach(async () => {
  slow?.closeAllConnections();
  await new Promise((resolve) => (slow ? slow.close(resolve) : resolve(undefined)));
  slow = undefined;
  await h?.close();
  h = undefined;
});

const png = () =>
  sharp({ create: { width: 600, height: 600, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();

it('refuses a download past the concurrent downloads of one workspace, naming the limit', async () => {
  h = await startHarness();
  expect((await h.connect('x')).status).toBe(200);
  const image = await png();

  // A file host that holds every download until the test lets it go.
  const held: Array<{ res: ServerResponse }> = [];
  slow = createServer((_req: IncomingMessage, res: ServerResponse) => void held.push({ res }));
  await new Promise<void>((resolve) => slow!.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(slow.address() as AddressInfo).port}`;
  h.app.core.media.allowHost(host);
  const postWithFile = (user: string, workspace = 'T1') =>
    h!.app.core.commands.runText(invocation(user, { workspaceExternalId: workspace }), 'post x Held download', [
      { url: `http://${host}/${randomUUID()}.png`, originalName: 'held.png' },
    ]);

  const { concurrentDownloads } = WORKSPACE_MEDIA_CAPS;
  expect(concurrentDownloads).toBe(4);
  const running = Array.from({ length: concurrentDownloads }, (_, i) => postWithFile(`U_${i}`));
  await waitUntil(() => held.length === concurrentDownloads);

  // Refused at once, not held like the others.
  const refused = await Promise.race([
    postWithFile('U_LATE'),
    new Promise<{ message: { text: string } }>((resolve) =>
      setTimeout(() => resolve({ message: { text: 'still downloading after 5 s' } }), 5_000),
    ),
  ]);
  expect(refused.message.text).toContain(
    '"held.png" was not downloaded: this workspace already has 4 files downloading, the most IQSP downloads at once for one workspace; send it again once they are done.',
  );
  expect(held.length).toBe(concurrentDownloads);

  // Another workspace downloads meanwhile.
  const elsewhere = postWithFile('U_ELSEWHERE', 'T2');
  await waitUntil(() => held.length === concurrentDownloads + 1);

  for (const { res } of held) res.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length }).end(image);
  for (const reply of await Promise.all(running)) expect(reply.message.text).toMatch(/is waiting for approval/);
  await elsewhere;

  // The slots are free again.
  const again = postWithFile('U_LATE');
  await waitUntil(() => held.length === concurrentDownloads + 2);
  held.at(-1)!.res.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length }).end(image);
  expect((await again).message.text).toMatch(/is waiting for approval/);
});

it('refuses media that would take the workspace past its stored bytes, naming the limit, and takes it once media is deleted', async () => {
  h = await startHarness();
  expect((await h.connect('x')).status).toBe(200);
  const db = h.app.services.db;
  const workspaceId = await ensureWorkspace(db, 'slack', 'T1', 'Acme');
  const uploader = await ensureUser(db, workspaceId, 'U_ADA', 'U_ADA');
  const now = isoNow();
  // Media kept by the workspace's pending posts (rows only: the cap counts what the database says is stored).
  await db
    .insertInto('media')
    .values({
      id: randomUUID(),
      workspace_id: workspaceId,
      uploaded_by_id: uploader,
      post_id: null,
      derived_from_id: null,
      storage_key: randomUUID(),
      original_name: 'big.mp4',
      mime_type: 'video/mp4',
      size_bytes: WORKSPACE_MEDIA_CAPS.storedBytes - 100,
      sha256: '0'.repeat(64),
      width: null,
      height: null,
      duration_ms: null,
      created_at: now,
      expires_at: now,
      deleted_at: null,
    })
    .execute();

  const image = await png();
  const refused = await h.run('U_ADA', 'post x Too much', {}, [{ name: 'photo.png', body: image }]);
  expect(refused.message.text).toContain(
    '"photo.png" does not fit: this workspace keeps at most 5.0 GB of media and has 100 bytes left; media is deleted once its posts are published, cancelled or expired.',
  );
  // Sent without a length, it is refused while it streams, and nothing of it is kept.
  slow = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.write(image);
    res.end();
  });
  await new Promise<void>((resolve) => slow!.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(slow.address() as AddressInfo).port}`;
  h.app.core.media.allowHost(host);
  const streamed = await h.app.core.commands.runText(invocation('U_ADA'), 'post x Too much, streamed', [
    { url: `http://${host}/photo.png`, originalName: 'streamed.png' },
  ]);
  expect(streamed.message.text).toContain(
    '"streamed.png" does not fit: this workspace keeps at most 5.0 GB of media and has 100 bytes left',
  );
  expect((await db.selectFrom('posts').select('id').execute()).length).toBe(0);
  expect((await db.selectFrom('media').select('id').execute()).length).toBe(1);

  // Another workspace is not counted against it.
  expect(
    (await h.run('U_ZED', 'post x Elsewhere', { workspaceExternalId: 'T2' }, [{ name: 'photo.png', body: image }])).message.text,
  ).not.toContain('does not fit');

  await db.updateTable('media').set({ deleted_at: now }).where('workspace_id', '=', workspaceId).execute();
  expect((await h.run('U_ADA', 'post x Fits now', {}, [{ name: 'photo.png', body: image }])).message.text).toMatch(
    /is waiting for approval/,
  );
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
