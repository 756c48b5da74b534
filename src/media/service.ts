/**
 * Temporary media: intake of chat attachments (downloaded by URL, streamed to disk, capped
 * while streaming, hashed, typed from bytes), read access for publishers (`MediaAccess`), and
 * signed public URLs served by `GET /media/:token`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { MediaTable } from '../db/schema.js';
import type { Selectable } from 'kysely';
import type { ByteRange, MediaAccess, MediaInfo } from './media.js';
import { probeFile, UnsupportedMediaError } from './probe.js';
import { loadSharp } from './libraries.js';
import type { MediaUrlSigner } from './signed-url.js';
import type { MediaStore } from './store.js';
import { isMadeKey, MediaTooLargeError, removeFilesBefore } from './store.js';

export type MediaRow = Selectable<MediaTable>;

/** A media download that cannot be used; the message names the file and the problem. */
export class MediaIntakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaIntakeError';
  }
}

export interface AttachmentSource {
  url: string;
  /** Sent to the attachment's own host only (e.g. the Slack bot token). */
  headers?: Record<string, string>;
  originalName?: string;
}

export interface MediaServiceOptions {
  db: Db;
  store: MediaStore;
  signer: MediaUrlSigner;
  publicUrl: string;
  /** Where downloads are written before they are typed and moved into the store. */
  incomingDir: string;
  mediaTtlHours: number;
  /** Largest attachment accepted, in bytes. */
  maxBytes: number;
  /** Hosts attachments may be downloaded from (the chat platforms' file hosts, configured API hosts). */
  allowedHosts: readonly string[];
  /** Per-workspace caps (default WORKSPACE_MEDIA_CAPS). */
  workspaceCaps?: WorkspaceMediaCaps;
  now?: () => Date;
}

/** What one workspace may use of the media intake, so one workspace cannot fill the disk or the network for all. */
export interface WorkspaceMediaCaps {
  /** Attachments downloading at once for one workspace, per instance. */
  concurrentDownloads: number;
  /** Bytes of media one workspace keeps stored (until its posts are over and cleanup deletes them). */
  storedBytes: number;
}

/**
 * Four downloads at once per workspace (a post's files download one after another, so four
 * people can post with files at the same moment), and 5 GB stored: a few dozen posts' videos
 * waiting for approval, far more than a team's usual queue.
 */
export const WORKSPACE_MEDIA_CAPS: WorkspaceMediaCaps = { concurrentDownloads: 4, storedBytes: 5 * 1024 ** 3 };

const MAX_REDIRECTS = 3;
/** Public URLs stay valid this long by default: enough for a platform to fetch, short enough to expire. */
const DEFAULT_URL_TTL_SECONDS = 6 * 3600;

export function toMediaInfo(row: MediaRow): MediaInfo {
  return {
    id: row.id,
    kind: row.mime_type.startsWith('video/') ? 'video' : 'image',
    mimeType: row.mime_type,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    originalName: row.original_name ?? undefined,
    width: row.width ?? undefined,
    height: row.height ?? undefined,
    durationMs: row.duration_ms ?? undefined,
  };
}

export class MediaService implements MediaAccess {
  private readonly now: () => Date;
  private readonly allowedHosts: Set<string>;
  private readonly caps: WorkspaceMediaCaps;
  /** Per workspace: downloads running in this instance, and the bytes they have written so far. */
  private readonly downloading = new Map<string, { count: number; bytes: number }>();

  constructor(private readonly options: MediaServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.allowedHosts = new Set(options.allowedHosts);
    this.caps = options.workspaceCaps ?? WORKSPACE_MEDIA_CAPS;
  }

  /** Allows downloads from one more host (a chat surface's file host, e.g. the sandbox's own uploads). */
  allowHost(host: string): void {
    this.allowedHosts.add(host);
  }

  /**
   * Downloads an attachment into the store and records it; refuses what is not usable media, and
   * what would pass the workspace's caps (downloads at once, bytes stored).
   */
  async intake(source: AttachmentSource, owner: { workspaceId: string; uploadedById: string }): Promise<MediaInfo> {
    const name = source.originalName ? `"${source.originalName}"` : 'the attachment';
    const running = this.downloading.get(owner.workspaceId) ?? { count: 0, bytes: 0 };
    if (running.count >= this.caps.concurrentDownloads)
      throw new MediaIntakeError(
        `${name} was not downloaded: this workspace already has ${running.count} files downloading, the most IQSP downloads at once for one workspace; send it again once they are done`,
      );
    running.count += 1;
    this.downloading.set(owner.workspaceId, running);
    try {
      return await this.intakeWithinCaps(source, owner, name, running);
    } finally {
      running.count -= 1;
      if (running.count === 0) this.downloading.delete(owner.workspaceId);
    }
  }

  private async intakeWithinCaps(
    source: AttachmentSource,
    owner: { workspaceId: string; uploadedById: string },
    name: string,
    running: { bytes: number },
  ): Promise<MediaInfo> {
    // Room left under the storage cap: what is stored, and what other downloads have written so far.
    const room = this.caps.storedBytes - (await this.storedBytes(owner.workspaceId)) - running.bytes;
    const storageFull = () =>
      new MediaIntakeError(
        `${name} does not fit: this workspace keeps at most ${formatBytes(this.caps.storedBytes)} of media and has ${formatBytes(Math.max(0, room))} left; media is deleted once its posts are published, cancelled or expired`,
      );
    if (room <= 0) throw storageFull();
    const response = await this.download(source, name);
    const contentLength = Number(response.headers.get('content-length') ?? 0);
    if (contentLength > this.options.maxBytes) {
      await response.body?.cancel();
      throw new MediaIntakeError(
        `${name} is ${formatBytes(contentLength)}; the most IQSP accepts is ${formatBytes(this.options.maxBytes)}`,
      );
    }
    if (contentLength > room) {
      await response.body?.cancel();
      throw storageFull();
    }
    if (/text\/html/i.test(response.headers.get('content-type') ?? ''))
      throw new MediaIntakeError(`${name} came back as a web page instead of the file (the bot may lack permission to read files)`);
    if (!response.body) throw new MediaIntakeError(`${name} came back empty`);

    const id = randomUUID();
    await mkdir(this.options.incomingDir, { recursive: true });
    const incoming = path.join(this.options.incomingDir, `${id}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const maxBytes = this.options.maxBytes;
    const limit = Math.min(maxBytes, room);
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            running.bytes += chunk.length;
            if (size > limit) return done(new MediaTooLargeError(limit));
            hash.update(chunk);
            done(null, chunk);
          },
        }),
        createWriteStream(incoming, { mode: 0o600 }),
      );
      if (size === 0) throw new MediaIntakeError(`${name} is empty`);
      const probe = await probeFile(incoming, source.originalName);
      await this.options.store.putFile(id, incoming);
      const now = this.now();
      const row = {
        id,
        workspace_id: owner.workspaceId,
        uploaded_by_id: owner.uploadedById,
        post_id: null,
        derived_from_id: null,
        storage_key: id,
        original_name: source.originalName ?? null,
        mime_type: probe.mimeType,
        size_bytes: size,
        sha256: hash.digest('hex'),
        width: probe.width ?? null,
        height: probe.height ?? null,
        duration_ms: probe.durationMs ?? null,
        created_at: isoNow(now),
        expires_at: isoNow(new Date(now.getTime() + this.options.mediaTtlHours * 3600_000)),
        deleted_at: null,
      };
      await this.options.db.insertInto('media').values(row).execute();
      return toMediaInfo({ ...row, position: 0 });
    } catch (error) {
      await rm(incoming, { force: true });
      await this.options.store.delete(id).catch(() => undefined);
      if (error instanceof MediaTooLargeError) {
        if (limit < maxBytes) throw storageFull();
        throw new MediaIntakeError(`${name} is larger than ${formatBytes(maxBytes)}, the most IQSP accepts`);
      }
      if (error instanceof UnsupportedMediaError) throw new MediaIntakeError(error.message);
      throw error;
    } finally {
      running.bytes -= size;
    }
  }

  /** Bytes of media the workspace keeps stored now (rows not yet deleted by cleanup). */
  private async storedBytes(workspaceId: string): Promise<number> {
    const row = await this.options.db
      .selectFrom('media')
      .select((eb) => eb.fn.sum<number | string | null>('size_bytes').as('total'))
      .where('workspace_id', '=', workspaceId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  private async download(source: AttachmentSource, name: string): Promise<Response> {
    let url = source.url;
    const originHost = hostOf(url);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      const host = hostOf(url);
      if (!host || !this.allowedHosts.has(host))
        throw new MediaIntakeError(`${name} is on ${host ?? 'an invalid URL'}, which is not a chat file host IQSP downloads from`);
      let response: Response;
      try {
        response = await fetch(url, {
          headers: host === originHost ? source.headers : undefined,
          redirect: 'manual',
          signal: AbortSignal.timeout(10 * 60_000),
        });
      } catch {
        throw new MediaIntakeError(`${name} could not be downloaded from ${host}`);
      }
      if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
        await response.body?.cancel();
        url = new URL(response.headers.get('location')!, url).toString();
        continue;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new MediaIntakeError(`${name} could not be downloaded (${host} answered ${response.status})`);
      }
      return response;
    }
    throw new MediaIntakeError(`${name} could not be downloaded (too many redirects)`);
  }

  /** Deletes a media item that never became part of a post (a refused request): file and row. */
  async discard(mediaId: string): Promise<void> {
    const rows = await this.options.db
      .selectFrom('media')
      .select(['id', 'storage_key'])
      .where((eb) => eb.or([eb('id', '=', mediaId), eb('derived_from_id', '=', mediaId)]))
      .execute();
    for (const row of rows) await this.options.store.delete(row.storage_key);
    await this.options.db.deleteFrom('media').where('id', '=', mediaId).execute();
  }

  /**
   * Removes downloads and conversions (`<id>.part`, `<id>.jpg.part` in the incoming folder) a
   * crash interrupted, last written before `before`; a running one writes as it goes, so its
   * file stays recent. Returns how many it removed.
   */
  async removeUnfinishedDownloads(before: Date): Promise<number> {
    return removeFilesBefore(
      this.options.incomingDir,
      before,
      (name) => /\.part$/.test(name) && isMadeKey(name.replace(/(\.jpg)?\.part$/, '')),
    );
  }

  async row(mediaId: string): Promise<MediaRow | undefined> {
    return this.options.db.selectFrom('media').selectAll().where('id', '=', mediaId).executeTakeFirst();
  }

  async stream(media: MediaInfo, range?: ByteRange): Promise<Readable> {
    const row = await this.row(media.id);
    if (!row || row.deleted_at) throw new Error(`media ${media.id} is no longer stored`);
    return this.options.store.open(row.storage_key, range);
  }

  async publicUrl(media: Pick<MediaInfo, 'id'>, ttlSeconds: number = DEFAULT_URL_TTL_SECONDS): Promise<string> {
    const expires = new Date(this.now().getTime() + ttlSeconds * 1000);
    return `${this.options.publicUrl}/media/${this.options.signer.sign(media.id, expires)}`;
  }

  async jpegCopy(media: MediaInfo): Promise<MediaInfo> {
    if (media.mimeType === 'image/jpeg') return media;
    const original = await this.row(media.id);
    if (!original || original.deleted_at) throw new Error(`media ${media.id} is no longer stored`);
    const existing = await this.options.db
      .selectFrom('media')
      .selectAll()
      .where('derived_from_id', '=', media.id)
      .where('mime_type', '=', 'image/jpeg')
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (existing) return toMediaInfo(existing);

    const id = randomUUID();
    await mkdir(this.options.incomingDir, { recursive: true });
    const incoming = path.join(this.options.incomingDir, `${id}.jpg.part`);
    try {
      const sharp = await loadSharp();
      const source = await this.options.store.open(original.storage_key);
      // Transparent areas become white, as Instagram would render them.
      const converter = sharp().flatten({ background: '#ffffff' }).jpeg({ quality: 90, mozjpeg: true });
      await pipeline(source, converter, createWriteStream(incoming, { mode: 0o600 }));
      const hash = createHash('sha256');
      let size = 0;
      // eslint-disable-next-line require-yield -- the pipeline's sink: it reads the chunks, nothing flows on
      await pipeline(createReadStream(incoming), async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          size += chunk.length;
          hash.update(chunk);
        }
      });
      const meta = await sharp(incoming).metadata();
      await this.options.store.putFile(id, incoming);
      const row = {
        id,
        workspace_id: original.workspace_id,
        uploaded_by_id: original.uploaded_by_id,
        post_id: original.post_id,
        position: original.position,
        derived_from_id: original.id,
        storage_key: id,
        original_name: original.original_name ? original.original_name.replace(/\.[^.]*$/, '') + '.jpg' : null,
        mime_type: 'image/jpeg',
        size_bytes: size,
        sha256: hash.digest('hex'),
        width: meta.width ?? null,
        height: meta.height ?? null,
        duration_ms: null,
        created_at: isoNow(this.now()),
        expires_at: original.expires_at,
        deleted_at: null,
      };
      await this.options.db.insertInto('media').values(row).execute();
      return toMediaInfo(row);
    } catch (error) {
      await rm(incoming, { force: true });
      // Stored before the row insert failed: nothing names it (cleanup would find it later).
      await this.options.store.delete(id).catch(() => undefined);
      throw error;
    }
  }
}

function hostOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.host : undefined;
  } catch {
    return undefined;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
