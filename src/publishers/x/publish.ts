/**
 * Publishing one post on X: every file is uploaded and processed first, then `beforeCommit`,
 * then POST /2/tweets makes the post live (platform-apis.md §3.4–3.5).
 */
import type { PublishRequest, PublishResult } from '../publisher.js';
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
  try {
    const mediaIds = await uploadAll(options, request);
    request.onProgress?.({ phase: 'publishing' });
    await request.beforeCommit();
    const answer = await xCall(
      `${options.apiUrl}/2/tweets`,
      {
        method: 'POST',
        headers: { ...bearer(request.tokens.accessToken), 'Content-Type': 'application/json' },
        body: JSON.stringify(tweetBody(request.draft.caption, mediaIds)),
        signal: request.signal,
      },
      'commit',
    );
    const id = stringField(field(answer.json, 'data'), 'id');
    if (!id) {
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
    return { kind: 'published', platformPostId: id, permalink: permalink(request.account.handle, id) };
  } catch (error) {
    if (error instanceof XCallFailed) return { kind: 'failed', failure: error.failure };
    throw error;
  }
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
}

/** `text` may be omitted when media is present; an empty string would be refused. */
function tweetBody(caption: string, mediaIds: string[]): TweetBody {
  const body: TweetBody = {};
  if (caption.trim() !== '') body.text = caption;
  if (mediaIds.length > 0) body.media = { media_ids: mediaIds };
  return body;
}

function permalink(handle: string | undefined, id: string): string {
  return handle ? `https://x.com/${handle}/status/${id}` : `https://x.com/i/web/status/${id}`;
}
