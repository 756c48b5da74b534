import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/app.js';
import { mediaRoutes, parseRange } from '../../src/http/media-routes.js';
import { MediaIntakeError, MediaService } from '../../src/media/service.js';
import { MediaUrlSigner } from '../../src/media/signed-url.js';
import { LocalMediaStore } from '../../src/media/store.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { seedAccount, testDatabase, type TestDatabase } from '../helpers/db.js';

let png: Buffer;
let files: Server;
let filesHost: string;
const seenAuth: Array<string | undefined> = [];

beforeAll(async () => {
  png = await sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } })
    .png()
    .toBuffer();
  files = createServer((req, res) => {
    seenAuth.push(req.headers.authorization);
    if (req.url === '/photo.png') return res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
    if (req.url === '/login') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>');
    if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked, no length
      for (let i = 0; i < 20; i += 1) res.write(Buffer.alloc(64 * 1024, 1));
      return res.end();
    }
    if (req.url === '/elsewhere') return res.writeHead(302, { location: 'https://evil.example.com/x' }).end();
    if (req.url === '/moved') return res.writeHead(302, { location: '/photo.png' }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesHost = `127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => files.close(() => r())));

let t: TestDatabase;
let media: MediaService;
let store: LocalMediaStore;
let signer: MediaUrlSigner;
let owner: { workspaceId: string; uploadedById: string };
let now: Date;

beforeEach(async () => {
  t = await testDatabase();
  store = new LocalMediaStore(path.join(t.dir, 'media'));
  signer = new MediaUrlSigner(Buffer.alloc(32, 9));
  now = new Date();
  media = new MediaService({
    db: t.db,
    store,
    signer,
    publicUrl: 'https://iqsp.example.com',
    incomingDir: path.join(t.dir, 'incoming'),
    mediaTtlHours: 24,
    maxBytes: 512 * 1024,
    allowedHosts: [filesHost],
    now: () => now,
  });
  const seeded = await seedAccount(t.db, 'x');
  owner = { workspaceId: seeded.workspaceId, uploadedById: seeded.userId };
  seenAuth.length = 0;
});
afterEach(async () => {
  await t.close();
});

describe('media intake', () => {
  it('downloads with the credentials, types from bytes, hashes, measures and stores', async () => {
    const info = await media.intake(
      { url: `http://${filesHost}/photo.png`, headers: { authorization: 'Bearer xoxb-test' }, originalName: 'photo.png' },
      owner,
    );
    expect(info).toMatchObject({ kind: 'image', mimeType: 'image/png', width: 300, height: 200, sizeBytes: png.length });
    expect(info.sha256).toBe(createHash('sha256').update(png).digest('hex'));
    expect(seenAuth).toEqual(['Bearer xoxb-test']);
    const row = await t.db.selectFrom('media').selectAll().executeTakeFirstOrThrow();
    expect(row.expires_at).toBe(new Date(now.getTime() + 24 * 3600_000).toISOString());
    expect(await store.size(row.storage_key)).toBe(png.length);
  });

  it('follows a redirect on the same host', async () => {
    const info = await media.intake({ url: `http://${filesHost}/moved`, originalName: 'a.png' }, owner);
    expect(info.mimeType).toBe('image/png');
  });

  it.each([
    ['a host that is not a chat file host', 'https://evil.example.com/photo.png', /evil.example.com, which is not a chat file host/],
    ['a redirect to another host', '/elsewhere', /evil.example.com, which is not a chat file host/],
    ['an HTML page', '/login', /came back as a web page instead of the file/],
    ['a file over the cap (counted while streaming)', '/huge', /larger than 512.0 KB/],
    ['a missing file', '/missing', /answered 404/],
  ])('refuses %s and keeps nothing', async (_what, url, message) => {
    const full = url.startsWith('/') ? `http://${filesHost}${url}` : url;
    await expect(media.intake({ url: full, originalName: 'photo.png' }, owner)).rejects.toThrow(MediaIntakeError);
    await expect(media.intake({ url: full, originalName: 'photo.png' }, owner)).rejects.toThrow(message);
    expect(await t.db.selectFrom('media').selectAll().execute()).toEqual([]);
  });

  it('makes a JPEG copy of a PNG once, stored beside the original', async () => {
    const info = await media.intake({ url: `http://${filesHost}/photo.png`, originalName: 'photo.png' }, owner);
    const jpeg = await media.jpegCopy(info);
    expect(jpeg).toMatchObject({ mimeType: 'image/jpeg', width: 300, height: 200, originalName: 'photo.jpg' });
    expect((await media.jpegCopy(info)).id).toBe(jpeg.id);
    const head = await new Promise<Buffer>((resolve) => {
      void media.stream(jpeg, { start: 0, end: 2 }).then((s) => {
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
      });
    });
    expect(head).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  });
});

describe('GET|HEAD /media/:token', () => {
  let server: Server;
  let base: string;
  beforeEach(async () => {
    const app = createHttpApp({
      db: t.db,
      logger: createLogger('silent'),
      metrics: createMetrics(),
      routes: [mediaRoutes({ media, store, signer })],
    });
    server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const pathOf = (url: string) => new URL(url).pathname;

  it('serves the file, ranges of it, and HEAD', async () => {
    const info = await media.intake({ url: `http://${filesHost}/photo.png`, originalName: 'photo.png' }, owner);
    const url = base + pathOf(await media.publicUrl(info));

    const full = await fetch(url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/png');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await full.arrayBuffer())).toEqual(png);

    const part = await fetch(url, { headers: { range: 'bytes=1-4' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1-4/${png.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(png.subarray(1, 5));

    const suffix = await fetch(url, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(png.subarray(png.length - 10));

    const beyond = await fetch(url, { headers: { range: `bytes=${png.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${png.length}`);

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(png.length));
  });

  it('answers 404 for a forged, expired, or deleted token', async () => {
    const info = await media.intake({ url: `http://${filesHost}/photo.png`, originalName: 'photo.png' }, owner);
    const token = pathOf(await media.publicUrl(info))
      .split('/')
      .pop()!;
    expect((await fetch(`${base}/media/${token.slice(0, -2)}xx`)).status).toBe(404);
    expect((await fetch(`${base}/media/${signer.sign(info.id, new Date(Date.now() - 1000))}`)).status).toBe(404);
    expect((await fetch(`${base}/media/${token}`)).status).toBe(200);
    await store.delete(info.id);
    expect((await fetch(`${base}/media/${token}`)).status).toBe(404);
  });
});

describe('parseRange', () => {
  it('reads single ranges and refuses unsatisfiable ones', () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: 'all' });
    expect(parseRange('bytes=0-0', 10)).toEqual({ kind: 'range', start: 0, end: 0 });
    expect(parseRange('bytes=5-', 10)).toEqual({ kind: 'range', start: 5, end: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ kind: 'range', start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ kind: 'range', start: 7, end: 9 });
    expect(parseRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-1,4-5', 10)).toEqual({ kind: 'all' });
  });
});
