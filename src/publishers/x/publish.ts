/**
 * Publishing one post on X: every file is uploaded and processed first, then `beforeCommit`,
 * then POST /2/tweets makes the post live (platform-apis.md §3.4–3.5).
 *
 * A caption with `---` is a thread (src/core/thread-parts.ts): part 1 carries the media, each
 * next part is posted as a reply to the one before (`reply.in_reply_to_tweet_id`), and the
 * result links the first. Each part's POST is its own committing request when the caller
 * records live parts (`onPartLive`): `beforeCommit` before each, the part recorded once live,
 * and a run given `liveParts` resumes after them, uploading nothing (the media are on part 1).
 */
import { threadParts } from '../../core/thread-parts.js';
import type { HttpResponse } from '../http.js';
import type { Failure, PublishRequest, PublishResult } from '../publisher.js';
import { bearer, XCallFailed, xCall } from './api.js';
import { readProblem, xSaid } from './errors.js';
import { field, stringField } from './json.js';
import { xMediaKind } from './limits.js';
import { uploadMedia } from './upload.js';

export interface XPublishOptions {
  apiUrl: string;
  chunkBytes: number;
  pollIntervalMs: number;
  maxWaitMs: number;
}

export async function publishToX(options: XPublishOptions, request: PublishRequest): Promise<PublishResult> {
  const parts = threadParts(request.draft.caption);
  const live = [...(request.liveParts ?? [])].slice(0, parts.length);
  const durable = request.onPartLive !== undefined;
  try {
    // The media go on the first part: once it is live, a resumed thread uploads nothing.
    const mediaIds = live.length === 0 ? await uploadAll(options, request) : [];
    request.onProgress?.({ phase: 'publishing' });
    // Without a place to record each part, the whole thread is one committing unit.
    if (!durable && live.length < parts.length) await request.beforeCommit();
    for (let index = live.length; index < parts.length; index += 1) {
      if (durable) await request.beforeCommit();
      const sent = await postTweet(options, request, tweetBody(parts[index] ?? '', index === 0 ? mediaIds : [], live.at(-1)));
      if (sent.kind === 'failed')
        return { kind: 'failed', failure: partFailure(sent.failure, live, index, parts.length, request, durable) };
      live.push(sent.id);
      await request.onPartLive?.(index, sent.id, permalink(request.account.handle, sent.id));
    }
    const first = live[0] ?? '';
    return { kind: 'published', platformPostId: first, permalink: permalink(request.account.handle, first) };
  } catch (error) {
    if (error instanceof XCallFailed) {
      // Only an upload can throw here, and uploads happen before any part is live.
      return { kind: 'failed', failure: error.failure };
    }
    throw error;
  }
}

/** One POST /2/tweets: the new post's id, or why X did not create it. */
async function postTweet(
  options: XPublishOptions,
  request: PublishRequest,
  body: TweetBody,
): Promise<{ kind: 'live'; id: string } | { kind: 'failed'; failure: Failure }> {
  let answer: HttpResponse;
  try {
    answer = await xCall(
      `${options.apiUrl}/2/tweets`,
      {
        method: 'POST',
        headers: { ...bearer(request.tokens.accessToken), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: request.signal,
      },
      'commit',
    );
  } catch (error) {
    if (error instanceof XCallFailed) return { kind: 'failed', failure: error.failure };
    throw error;
  }
  const id = stringField(field(answer.json, 'data'), 'id');
  if (id) return { kind: 'live', id };
  // A success status can still carry only `errors[]`: then no post was created.
  const problem = readProblem(answer.json);
  return {
    kind: 'failed',
    failure: {
      class: 'content',
      message: `X refused this post${xSaid(problem)}; change it before posting again.`,
      platformCode: `x:${problem.type ?? answer.status}`,
    },
  };
}

/**
 * A part that failed after earlier parts went live. Where each live part is recorded
 * (`onPartLive`), the failure is X's, unchanged: the caller knows the live parts and says them,
 * and a later run resumes after them. Where they are not, nothing may send the thread again (its
 * first parts would be posted twice), so the failure is `unknown`, never resent, and its message
 * says which parts are live and links the first.
 */
function partFailure(
  failure: Failure,
  live: readonly string[],
  index: number,
  total: number,
  request: PublishRequest,
  durable: boolean,
): Failure {
  if (live.length === 0 || durable) return failure;
  const liveParts = live.length === 1 ? 'part 1' : `parts 1–${live.length}`;
  const message = `${liveParts} of ${total} ${live.length === 1 ? 'is' : 'are'} live (${permalink(request.account.handle, live[0] ?? '')}); part ${index + 1}: ${failure.message.replace(/\.+$/, '')}`;
  return { ...failure, class: 'unknown', message };
}

async function uploadAll(options: XPublishOptions, request: PublishRequest): Promise<string[]> {
  const files = request.draft.media;
  const bytesTotal = files.reduce((sum, file) => sum + file.sizeBytes, 0);
  let bytesSent = 0;
  const ids: string[] = [];
  for (const file of files) {
    const kind = xMediaKind(file);
    // validate() runs before publish; this guards a caller that skipped it.
    if (!kind)
      throw new XCallFailed({ class: 'content', message: `X does not accept ${file.mimeType} files.`, platformCode: 'x:media_type' });
    ids.push(
      await uploadMedia(file, kind, {
        ...options,
        accessToken: request.tokens.accessToken,
        media: request.media,
        signal: request.signal,
        onBytesSent(bytes) {
          bytesSent += bytes;
          request.onProgress?.({ phase: 'uploading', bytesSent, bytesTotal });
        },
        onProcessing() {
          request.onProgress?.({ phase: 'processing', bytesSent, bytesTotal });
        },
      }),
    );
  }
  return ids;
}

interface TweetBody {
  text?: string;
  media?: { media_ids: string[] };
  reply?: { in_reply_to_tweet_id: string };
}

/** `text` may be omitted when media is present; an empty string would be refused. A thread's next part replies to the one before. */
function tweetBody(caption: string, mediaIds: string[], inReplyTo: string | undefined): TweetBody {
  const body: TweetBody = {};
  if (caption.trim() !== '') body.text = caption;
  if (mediaIds.length > 0) body.media = { media_ids: mediaIds };
  if (inReplyTo !== undefined) body.reply = { in_reply_to_tweet_id: inReplyTo };
  return body;
}

function permalink(handle: string | undefined, id: string): string {
  return handle ? `https://x.com/${handle}/status/${id}` : `https://x.com/i/web/status/${id}`;
}
