/**
 * What cleanup removes besides the media of finished posts: the leftovers of writes that never
 * finished (a crash mid-write: `*.part` downloads, `*.partial` store files, open S3 multipart
 * uploads), stored files no media row names (stored before their row insert failed, or left by a
 * crash between a row's deletion and its file's), and derived copies (JPEG for Instagram) whose
 * original is gone; each only once it is older than an hour, so a write in progress is never
 * touched. Files IQSP did not make (not named by a UUID) are left alone. Run on the local folder
 * and on an S3 bucket (the simulator), through `iqsp cleanup`'s own entry point (`cleanup.run`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCore, openServices } from '../../src/app.js';
import { type Core, type Services } from '../../src/runtime.js';
import { loadConfig } from '../../src/config.js';
import { isoNow } from '../../src/db/database.js';
import { toMediaInfo } from '../../src/media/service.js';
import { createLogger } from '../../src/observability/logger.js';
import { S3Simulator } from '../../src/simulators/s3.js';
import { seedAccount, testDatabase, type TestDatabase } from '../helpers/db.js';

const BUCKET = 'iqsp-media';
const MINUTE = 60_000;

let s3: S3Simulator;
let png: Buffer;
beforeAll(async () => {
  s3 = await new S3Simulator({ buckets: [BUCKET] }).start();
  png = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 200, g: 10, b: 10, alpha: 0.5 } } })
    .png()
    .toBuffer();
});
afterAll(async () => {
  await s3.close();
});

let t: TestDatabase | undefined;
let services: Services | undefined;
afterEach(async () => {
  if (services && 'destroy' in services.mediaStore) (services.mediaStore as { destroy(): void }).destroy();
  await services?.db.destroy();
  await t?.close();
  services = undefined;
  t = undefined;
});

type StoreKind = 'local' | 's3';

interface World {
  core: Core;
  services: Services;
  mediaDir: string;
  clock: { now: Date };
  /** Whether the store holds `key`. */
  stored(key: string): Promise<boolean>;
}

async function world(kind: StoreKind): Promise<World> {
  t = await testDatabase();
  const mediaDir = path.join(t.dir, 'media');
  const env = {
    DATABASE_URL: t.url,
    MEDIA_DIR: mediaDir,
    VAULT_KEY: randomBytes(32).toString('base64'),
    ...(kind === 's3' ? { ...s3.env(), S3_PREFIX: `${randomUUID()}/` } : {}),
  };
  const config = loadConfig(env, t.dir);
  services = await openServices(config, createLogger('silent'));
  const clock = { now: new Date() };
  const core = buildCore(services, { now: () => clock.now });
  const prefix = env.S3_PREFIX ?? '';
  return {
    core,
    services,
    mediaDir,
    clock,
    stored: async (key) => (kind === 's3' ? s3.objectKeys(BUCKET).includes(prefix + key) : existsSync(path.join(mediaDir, key))),
  };
}

/** A post waiting for approval (its media must stay). */
async function waitingPost(w: World): Promise<{ postId: string; workspaceId: string; userId: string }> {
  const db = w.services.db;
  const { workspaceId, userId } = await seedAccount(db, 'instagram');
  const postId = randomUUID().slice(0, 8).toUpperCase();
  const at = isoNow(w.clock.now);
  await db
    .insertInto('posts')
    .values({
      id: postId,
      workspace_id: workspaceId,
      requester_id: userId,
      caption: 'waiting',
      status: 'pending_approval',
      approvals_required: 1,
      channel_id: 'C1',
      approval_message_id: null,
      thread_id: null,
      progress_message_id: null,
      created_at: at,
      updated_at: at,
      approval_expires_at: isoNow(new Date(w.clock.now.getTime() + 48 * 3600_000)),
      decided_at: null,
      finished_at: null,
    })
    .execute();
  return { postId, workspaceId, userId };
}

/** An image of a waiting post, stored and recorded as intake does, and its JPEG copy (as Instagram publishing makes). */
async function imageWithCopy(w: World): Promise<{ originalId: string; copyId: string }> {
  const { postId, workspaceId, userId } = await waitingPost(w);
  const id = randomUUID();
  const stored = await w.core.mediaStore.put(id, Readable.from([png]), 1024 * 1024);
  const at = isoNow(w.clock.now);
  const row = {
    id,
    workspace_id: workspaceId,
    uploaded_by_id: userId,
    post_id: postId,
    derived_from_id: null,
    storage_key: id,
    original_name: 'photo.png',
    mime_type: 'image/png',
    size_bytes: stored.sizeBytes,
    sha256: stored.sha256,
    width: 64,
    height: 64,
    duration_ms: null,
    created_at: at,
    expires_at: isoNow(new Date(w.clock.now.getTime() + 24 * 3600_000)),
    deleted_at: null,
  };
  await w.services.db.insertInto('media').values(row).execute();
  const copy = await w.core.media.jpegCopy(toMediaInfo({ ...row, position: 0 }));
  expect(copy.mimeType).toBe('image/jpeg');
  return { originalId: id, copyId: copy.id };
}

/** Leftovers of writes a crash interrupted, for the store kind; returns what to look for afterwards. */
async function unfinishedWrites(w: World, kind: StoreKind): Promise<{ files: string[]; uploads: () => number }> {
  const incoming = path.join(w.mediaDir, 'incoming');
  mkdirSync(incoming, { recursive: true });
  const files = [path.join(incoming, `${randomUUID()}.part`), path.join(incoming, `${randomUUID()}.jpg.part`)];
  if (kind === 'local') files.push(path.join(w.mediaDir, `${randomUUID()}.partial`));
  for (const file of files) writeFileSync(file, 'half a file');
  if (kind === 'local') return { files, uploads: () => 0 };

  const prefix = w.services.config.mediaStore.kind === 's3' ? (w.services.config.mediaStore.prefix ?? '') : '';
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    const key = `${prefix}${randomUUID()}`;
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: created.UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 7) }),
    );
    // Not IQSP's: another application's object and upload in the same bucket, outside the prefix.
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `elsewhere/${randomUUID()}`, Body: 'not ours' }));
    await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `elsewhere/${randomUUID()}` }));
  } finally {
    client.destroy();
  }
  return { files, uploads: () => s3.pendingUploads().filter((u) => u.key.startsWith(prefix) && prefix !== '').length };
}

for (const kind of ['local', 's3'] as const) {
  describe(`cleanup of media leaks (${kind} store)`, () => {
    it('removes unfinished writes, unreferenced stored files and orphaned copies once older than an hour, and nothing else', async () => {
      const w = await world(kind);
      const started = w.clock.now.getTime();

      // Kept: a waiting post's image and its copy.
      const live = await imageWithCopy(w);
      // An orphaned copy: its original was deleted (row marked, file gone) while the copy stayed.
      const orphaned = await imageWithCopy(w);
      await w.services.db
        .updateTable('media')
        .set({ deleted_at: isoNow(w.clock.now) })
        .where('id', '=', orphaned.originalId)
        .execute();
      await w.core.mediaStore.delete(orphaned.originalId);
      // A copy whose original row was removed outright: the copy's row went with it (cascade), its file stayed.
      const cascaded = await imageWithCopy(w);
      await w.services.db.deleteFrom('media').where('id', '=', cascaded.originalId).execute();
      await w.core.mediaStore.delete(cascaded.originalId);
      // Stored, then the row insert failed (or the process died before it).
      const rowless = randomUUID();
      await w.core.mediaStore.put(rowless, Readable.from([png]), 1024 * 1024);
      // A row marked deleted whose file a crash left behind.
      const markedOnly = await imageWithCopy(w);
      await w.services.db
        .updateTable('media')
        .set({ deleted_at: isoNow(w.clock.now) })
        .where('id', 'in', [markedOnly.originalId, markedOnly.copyId])
        .execute();
      // Interrupted writes, and a file IQSP did not make.
      const unfinished = await unfinishedWrites(w, kind);
      const foreign = path.join(w.mediaDir, 'README.txt');
      writeFileSync(foreign, 'the operator keeps notes here');
      expect(unfinished.uploads()).toBe(kind === 's3' ? 1 : 0);

      // Less than an hour later, everything may still be a write in progress: nothing goes.
      w.clock.now = new Date(started + 59 * MINUTE);
      const early = await w.core.cleanup.run();
      expect(early.mediaDeleted).toEqual([]);
      expect(early.unfinishedWritesRemoved).toBe(0);
      expect(early.unreferencedFilesRemoved).toBe(0);
      for (const key of [live.originalId, live.copyId, orphaned.copyId, cascaded.copyId, rowless, markedOnly.originalId])
        expect(await w.stored(key), key).toBe(true);
      for (const file of unfinished.files) expect(existsSync(file), file).toBe(true);

      w.clock.now = new Date(started + 61 * MINUTE);
      const report = await w.core.cleanup.run();
      expect(report.mediaDeleted).toEqual([{ mediaId: orphaned.copyId, postId: expect.any(String), reason: 'original-gone' }]);
      expect(report.unfinishedWritesRemoved).toBe(unfinished.files.length + (kind === 's3' ? 1 : 0));
      // The cascaded copy, the row-less file, and the marked-only original and copy.
      expect(report.unreferencedFilesRemoved).toBe(4);

      expect(await w.stored(live.originalId)).toBe(true);
      expect(await w.stored(live.copyId)).toBe(true);
      for (const key of [orphaned.copyId, cascaded.copyId, rowless, markedOnly.originalId, markedOnly.copyId])
        expect(await w.stored(key), key).toBe(false);
      for (const file of unfinished.files) expect(existsSync(file), file).toBe(false);
      expect(unfinished.uploads()).toBe(0);
      expect(existsSync(foreign)).toBe(true);
      if (kind === 's3') {
        expect(s3.objectKeys(BUCKET).filter((k) => k.startsWith('elsewhere/'))).toHaveLength(1);
        expect(s3.pendingUploads().filter((u) => u.key.startsWith('elsewhere/')).length).toBeGreaterThanOrEqual(1);
      }
      const copyRow = await w.services.db
        .selectFrom('media')
        .select('deleted_at')
        .where('id', '=', orphaned.copyId)
        .executeTakeFirstOrThrow();
      expect(copyRow.deleted_at).not.toBeNull();
      const audit = await w.services.db
        .selectFrom('audit_log')
        .select('detail')
        .where('action', '=', 'media.deleted')
        .where('subject_id', '=', orphaned.copyId)
        .execute();
      expect(audit).toHaveLength(1);

      // A second run finds nothing more.
      const again = await w.core.cleanup.run();
      expect([again.mediaDeleted.length, again.unfinishedWritesRemoved, again.unreferencedFilesRemoved]).toEqual([0, 0, 0]);
    });
  });
}
