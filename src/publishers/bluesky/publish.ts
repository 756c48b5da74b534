/**
 * Publishing one post on Bluesky (more-platforms.md §4.7): media first (images through the
 * PDS's uploadBlob, a video through the video service), then `beforeCommit`, then
 * com.atproto.repo.createRecord makes the post live. The record key is a TID chosen before the
 * commit and handed to core (`onPlatformRef`), so a post whose answer was lost is found again by
 * com.atproto.repo.getRecord.
 *
 * A caption with `---` is a thread: part 1 carries the media, each next part replies to the one
 * before (`reply.parent`) in the chain of the first (`reply.root`). With `onPartLive`, each
 * part's createRecord is its own committing request, and a run given `liveParts` resumes after
 * them.
 */
import type { OAuthSession } from '@atproto/oauth-client-node';
import { threadParts } from '../../core/thread-parts.js';
import type { MediaInfo } from '../../media/media.js';
import type { Failure, PublishRequest, PublishResult } from '../publisher.js';
import type { BlueskyClient } from './client.js';
import { MemoryStore } from './client.js';
import { mapBlueskyError, mapLibraryError } from './errors.js';
import { detectFacets } from './facets.js';
import { blueskyMediaKind } from './limits.js';
import { sessionFromTokens } from './session.js';
import { nextTid } from './tid.js';
import { uploadVideo, type VideoOptions } from './video.js';
import { BlueskyCallFailed, field, stringField, xrpc, xrpcAnswer } from './xrpc.js';
import type { NodeSavedSession } from '@atproto/oauth-client-node';

export const POST_COLLECTION = 'app.bsky.feed.post';

export interface BlueskyPublishOptions extends VideoOptions {
  client: BlueskyClient;
}

interface StrongRef {
  uri: string;
  cid: string;
}

/** The library's session over the stored tokens, unable to refresh by itself (see sessionFromTokens). */
export async function openSession(client: BlueskyClient, tokens: PublishRequest['tokens']): Promise<OAuthSession> {
  const saved = sessionFromTokens(tokens, false);
  const sessions = new MemoryStore<NodeSavedSession>();
  sessions.set(saved.tokenSet.sub, saved);
  const oauth = await client.build({ session: sessions });
  try {
    return await oauth.restore(saved.tokenSet.sub, false);
  } catch (error) {
    const mapped = mapLibraryError(error, 'read');
    if (mapped) throw new BlueskyCallFailed(mapped);
    throw error;
  }
}

export async function publishToBluesky(options: BlueskyPublishOptions, request: PublishRequest): Promise<PublishResult> {
  const parts = threadParts(request.draft.caption);
  const live = [...(request.liveParts ?? [])].slice(0, parts.length);
  const durable = request.onPartLive !== undefined;
  try {
    const session = await openSession(options.client, request.tokens);
    const did = session.did;
    const refs: StrongRef[] = [];
    // A resumed thread needs the root's and the last part's content ids for its replies.
    if (live.length > 0) {
      const root = await getPostRef(session, live[0] ?? '');
      const parent = live.length > 1 ? await getPostRef(session, live.at(-1) ?? '') : root;
      refs.push(root, parent);
    }
    const embed = live.length === 0 ? await uploadEmbed(options, session, request) : undefined;
    request.onProgress?.({ phase: 'publishing' });
    if (!durable && live.length < parts.length) await request.beforeCommit();
    for (let index = live.length; index < parts.length; index += 1) {
      const text = parts[index] ?? '';
      const facets = await detectFacets(text, (handle) => resolveHandle(session, handle, request.signal));
      const record: Record<string, unknown> = { $type: POST_COLLECTION, text, createdAt: new Date().toISOString() };
      if (facets.length > 0) record.facets = facets;
      if (index === 0 && embed) record.embed = embed;
      const root = refs[0];
      const parent = refs.at(-1);
      if (root && parent) record.reply = { root, parent };
      const rkey = nextTid();
      await request.onPlatformRef?.(postUri(did, rkey));
      if (durable) await request.beforeCommit();
      let created: StrongRef;
      try {
        created = await createPost(session, did, rkey, record, request.signal);
      } catch (error) {
        if (error instanceof BlueskyCallFailed)
          return { kind: 'failed', failure: partFailure(error.failure, live, index, parts.length, did, durable) };
        throw error;
      }
      if (refs.length === 0) refs.push(created);
      refs.push(created);
      live.push(created.uri);
      await request.onPartLive?.(index, created.uri, permalink(created.uri));
    }
    const first = live[0] ?? '';
    return { kind: 'published', platformPostId: first, permalink: permalink(first) };
  } catch (error) {
    if (error instanceof BlueskyCallFailed) return { kind: 'failed', failure: error.failure };
    throw error;
  }
}

async function createPost(
  session: OAuthSession,
  did: string,
  rkey: string,
  record: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<StrongRef> {
  const json = await xrpc(session, 'com.atproto.repo.createRecord', {
    method: 'POST',
    json: { repo: did, collection: POST_COLLECTION, rkey, validate: true, record },
    stage: 'commit',
    signal,
  });
  const uri = stringField(json, 'uri');
  const cid = stringField(json, 'cid');
  if (!uri || !cid)
    throw new BlueskyCallFailed({
      class: 'unknown',
      message: 'Bluesky accepted the post without saying its address; check before posting again.',
      platformCode: 'bluesky:no-uri',
    });
  return { uri, cid };
}

async function getPostRef(session: OAuthSession, uri: string): Promise<StrongRef> {
  const { repo, rkey } = parsePostUri(uri);
  const json = await xrpc(session, 'com.atproto.repo.getRecord', { query: { repo, collection: POST_COLLECTION, rkey }, stage: 'upload' });
  const cid = stringField(json, 'cid');
  if (!cid)
    throw new BlueskyCallFailed({
      class: 'retryable',
      message: 'Bluesky did not return the earlier part of the thread; try again.',
      platformCode: 'bluesky:getRecord',
    });
  return { uri, cid };
}

/** A mention's DID, or undefined (then the mention stays plain text). */
async function resolveHandle(session: OAuthSession, handle: string, signal?: AbortSignal): Promise<string | undefined> {
  const answer = await xrpcAnswer(session, 'com.atproto.identity.resolveHandle', { query: { handle }, stage: 'upload', signal });
  if (answer.ok) return stringField(answer.json, 'did');
  // Only "no such handle" makes it plain text; anything else (a 5xx, a rate limit) stops here.
  if (answer.status === 400) return undefined;
  throw new BlueskyCallFailed(mapBlueskyError(answer, 'upload'));
}

async function uploadEmbed(
  options: BlueskyPublishOptions,
  session: OAuthSession,
  request: PublishRequest,
): Promise<Record<string, unknown> | undefined> {
  const files = request.draft.media;
  if (files.length === 0) return undefined;
  const bytesTotal = files.reduce((sum, file) => sum + file.sizeBytes, 0);
  let bytesSent = 0;
  const progress = (bytes: number): void => {
    bytesSent += bytes;
    request.onProgress?.({ phase: 'uploading', bytesSent, bytesTotal });
  };
  const video = files.find((file) => blueskyMediaKind(file) === 'video');
  if (video) {
    const blob = await uploadVideo(options, session, video, request, progress);
    return { $type: 'app.bsky.embed.video', video: blob, ...aspectRatio(video) };
  }
  const images = [];
  for (const file of files) {
    if (blueskyMediaKind(file) !== 'image')
      throw new BlueskyCallFailed({
        class: 'content',
        message: `Bluesky does not accept ${file.mimeType} files.`,
        platformCode: 'bluesky:media_type',
      });
    const json = await xrpc(session, 'com.atproto.repo.uploadBlob', {
      method: 'POST',
      stream: { open: () => request.media.stream(file), contentType: file.mimeType, length: file.sizeBytes },
      stage: 'upload',
      signal: request.signal,
    });
    const blob = field(json, 'blob');
    if (!blob)
      throw new BlueskyCallFailed({
        class: 'retryable',
        message: 'Bluesky did not return the uploaded image; try again.',
        platformCode: 'bluesky:uploadBlob',
      });
    progress(file.sizeBytes);
    images.push({ image: blob, alt: '', ...aspectRatio(file) });
  }
  return { $type: 'app.bsky.embed.images', images };
}

function aspectRatio(media: MediaInfo): { aspectRatio?: { width: number; height: number } } {
  return media.width && media.height ? { aspectRatio: { width: media.width, height: media.height } } : {};
}

function partFailure(failure: Failure, live: readonly string[], index: number, total: number, _did: string, durable: boolean): Failure {
  if (live.length === 0 || durable) return failure;
  const liveParts = live.length === 1 ? 'part 1' : `parts 1–${live.length}`;
  const message = `${liveParts} of ${total} ${live.length === 1 ? 'is' : 'are'} live (${permalink(live[0] ?? '')}); part ${index + 1}: ${failure.message.replace(/\.+$/, '')}`;
  return { ...failure, class: 'unknown', message };
}

export function postUri(did: string, rkey: string): string {
  return `at://${did}/${POST_COLLECTION}/${rkey}`;
}

export function parsePostUri(uri: string): { repo: string; rkey: string } {
  const match = /^at:\/\/([^/]+)\/app\.bsky\.feed\.post\/([^/]+)$/.exec(uri);
  if (!match) throw new Error(`not a Bluesky post address: ${uri}`);
  return { repo: match[1] ?? '', rkey: match[2] ?? '' };
}

/** The post's link by DID (a handle can change; the DID form never breaks). */
export function permalink(uri: string): string {
  const { repo, rkey } = parsePostUri(uri);
  return `https://bsky.app/profile/${repo}/post/${rkey}`;
}
