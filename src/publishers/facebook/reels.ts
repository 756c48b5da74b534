/**
 * Facebook Page Reels (more-platforms.md §6): a vertical clip goes to the Reels Publishing API
 * rather than `/videos`.
 *   start    POST {graph}/{page-id}/video_reels (upload_phase=start) → {video_id, upload_url}
 *   upload   POST upload_url (the rupload host) with `Authorization: OAuth <page token>`, `offset: 0`,
 *            `file_size: <bytes>` and the bytes, streamed → {success: true}
 *   finish   POST {graph}/{page-id}/video_reels (upload_phase=finish, video_id, video_state=PUBLISHED, description)
 *   status   GET {graph}/{video_id}?fields=status until its publishing phase is complete
 * Its link is https://www.facebook.com/reel/{video_id}. The finish is the committing request;
 * start and upload leave nothing on the Page.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MediaInfo } from '../../media/media.js';
import { redactText } from '../../observability/redact.js';
import { NetworkError } from '../http.js';
import { formatDuration, formatNumber } from '../meta/draft-text.js';
import { errorDetail, readGraphError } from '../meta/errors.js';
import type { GraphClient } from '../meta/graph-client.js';
import { GraphResponseError, UnexpectedGraphAnswer } from '../meta/graph-client.js';
import { arrayField, asObject, objectField, stringField, type JsonObject } from '../meta/graph-json.js';
import type { PollTiming } from '../meta/options.js';
import { PublishStopped, type MetaPublishRun } from '../meta/publish-run.js';
import { mapFacebookError } from './errors.js';
import type { PublishRequest, PublishResult, ValidationProblem } from '../publisher.js';

export const FACEBOOK_WEB = 'https://www.facebook.com';

export const REELS_LIMITS = {
  /** 9:16, with a little room for encoders that round a dimension. */
  aspect: 9 / 16,
  aspectTolerance: 0.01,
  minWidth: 540,
  minHeight: 960,
  minDurationMs: 3_000,
  maxDurationMs: 90_000,
  /** Reels published through the API per Page per rolling 24 hours. */
  perPagePerDay: 30,
} as const;

/** The upload of a whole reel may take a while; the rupload host answers once it has every byte. */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

/**
 * Whether a draft's video goes to Reels: an MP4, vertical 9:16, at most 90 s long (its size and
 * duration as the media store measured them). Every other video stays on `/videos`.
 */
export function isReelShape(media: MediaInfo): boolean {
  if (media.kind !== 'video' || media.mimeType !== 'video/mp4') return false;
  if (!media.width || !media.height || media.durationMs === undefined) return false;
  const ratio = media.width / media.height;
  return (
    Math.abs(ratio - REELS_LIMITS.aspect) / REELS_LIMITS.aspect <= REELS_LIMITS.aspectTolerance &&
    media.durationMs <= REELS_LIMITS.maxDurationMs
  );
}

/** Reels' own rules, for a video whose shape routes it there. */
export function checkReel(media: MediaInfo, name: string): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if ((media.width ?? 0) < REELS_LIMITS.minWidth || (media.height ?? 0) < REELS_LIMITS.minHeight)
    problems.push({
      code: 'video_dimensions',
      message: `Facebook Reels need at least ${REELS_LIMITS.minWidth}×${REELS_LIMITS.minHeight} pixels (1080×1920 is best); ${name} is ${media.width}×${media.height}.`,
    });
  if ((media.durationMs ?? 0) < REELS_LIMITS.minDurationMs)
    problems.push({
      code: 'video_duration',
      message: `Facebook Reels are ${formatDuration(REELS_LIMITS.minDurationMs)} to ${formatDuration(REELS_LIMITS.maxDurationMs)} long; ${name} is ${formatDuration(media.durationMs ?? 0)}.`,
    });
  return problems;
}

export class ReelPublish {
  private readonly pageId: string;
  private readonly token: string;

  constructor(
    private readonly graph: GraphClient,
    private readonly timing: PollTiming,
    private readonly run: MetaPublishRun,
    private readonly request: PublishRequest,
    private readonly description: string | undefined,
  ) {
    this.pageId = request.account.platformAccountId;
    this.token = request.tokens.accessToken;
  }

  async publish(media: MediaInfo): Promise<PublishResult> {
    const started = await this.run.step('prepare', () =>
      capped(() =>
        this.graph.post(`${this.pageId}/video_reels`, {
          token: this.token,
          params: { upload_phase: 'start' },
          signal: this.request.signal,
        }),
      ),
    );
    const videoId = stringField(started, 'video_id');
    const uploadUrl = stringField(started, 'upload_url');
    if (!videoId || !uploadUrl)
      this.run.stop({
        class: 'retryable',
        message: 'Facebook started a reel upload without its video id or upload URL; nothing was posted and it will be tried again.',
        platformCode: 'meta:unexpected',
      });
    // Kept with the target: an interrupted finish is verified by it.
    await this.request.onPlatformRef?.(videoId);
    await this.upload(media, uploadUrl);
    await this.request.beforeCommit();
    this.request.onProgress?.({ phase: 'publishing' });
    await this.run.step('commit', async () => {
      const answer = await capped(() =>
        this.graph.post(`${this.pageId}/video_reels`, {
          token: this.token,
          params: { upload_phase: 'finish', video_id: videoId, video_state: 'PUBLISHED', description: this.description },
          signal: this.request.signal,
        }),
      );
      if (answer.success !== true) throw new UnexpectedGraphAnswer('success for the reel');
    });
    await this.waitUntilPublished(videoId);
    return { kind: 'published', platformPostId: videoId, permalink: `${FACEBOOK_WEB}/reel/${videoId}` };
  }

  /** The bytes to the rupload host in one streamed request (offset 0, the whole file). */
  private async upload(media: MediaInfo, uploadUrl: string): Promise<void> {
    this.request.onProgress?.({ phase: 'uploading', bytesSent: 0, bytesTotal: media.sizeBytes });
    const stream = await this.request.media.stream(media);
    let response;
    try {
      response = await this.run.step('prepare', () =>
        streamUpload(
          uploadUrl,
          {
            Authorization: `OAuth ${this.token}`,
            offset: '0',
            file_size: String(media.sizeBytes),
            'Content-Type': 'application/octet-stream',
            'Content-Length': String(media.sizeBytes),
          },
          stream,
          this.request.signal,
        ),
      );
    } finally {
      stream.destroy();
    }
    const body = asObject(response.json);
    if (response.status >= 200 && response.status < 300 && body?.success === true) {
      this.request.onProgress?.({ phase: 'uploading', bytesSent: media.sizeBytes, bytesTotal: media.sizeBytes });
      return;
    }
    const debug = objectField(body, 'debug_info');
    const said = redactText(
      stringField(debug, 'message') ?? stringField(objectField(body, 'error'), 'message') ?? `HTTP ${response.status}`,
    );
    const retriable = debug?.retriable === true || response.status >= 500 || response.status === 429;
    this.run.stop(
      retriable
        ? {
            class: 'retryable',
            message: `Facebook's upload host did not take the reel (${said}); nothing was posted and it will be tried again.`,
            platformCode: `meta:rupload_${response.status}`,
          }
        : {
            class: 'content',
            message: `Facebook refused the reel's upload (${said}); check the video and post it again.`,
            platformCode: `meta:rupload_${response.status}`,
          },
    );
  }

  /** Polls the reel's status until its publishing phase is complete; a processing error ends it as content. */
  private async waitUntilPublished(videoId: string): Promise<void> {
    const deadline = Date.now() + this.timing.maxWaitMs;
    for (;;) {
      const node = await this.run.step('confirm', () =>
        this.graph.get(videoId, { token: this.token, params: { fields: 'status' }, signal: this.request.signal }),
      );
      const status = objectField(node, 'status');
      const publishing = objectField(status, 'publishing_phase');
      if (stringField(publishing, 'status') === 'complete' || stringField(publishing, 'publish_status') === 'published') return;
      const failed = reelError(status);
      if (failed !== undefined)
        this.run.stop({
          class: 'content',
          message: `Facebook could not publish this reel (${failed}); change the video and post it again.`,
          platformCode: 'meta:reel_error',
        });
      if (Date.now() >= deadline)
        this.run.stop({
          class: 'unknown',
          message: `Facebook accepted the reel but was still processing it after ${formatDuration(this.timing.maxWaitMs)}; look at the Page's reels before posting again.`,
          platformCode: 'meta:reel_processing_timeout',
        });
      this.request.onProgress?.({ phase: 'processing' });
      await this.run.sleep(this.timing.intervalMs, 'confirm');
    }
  }
}

/** Why a reel failed, from its status: the first phase in error, with Meta's message where it gives one. */
function reelError(status: JsonObject | undefined): string | undefined {
  const overall = stringField(status, 'video_status');
  for (const phase of ['uploading_phase', 'processing_phase', 'publishing_phase']) {
    const node = objectField(status, phase);
    if (stringField(node, 'status') !== 'error') continue;
    const direct = stringField(objectField(node, 'error'), 'message');
    const listed = stringField(asObject(arrayField(node, 'errors')[0]), 'message');
    return redactText(direct ?? listed ?? `${phase.replace('_', ' ')} failed`).replace(/[.\s]+$/, '');
  }
  return overall === 'error' || overall === 'expired' ? `video status ${overall}` : undefined;
}

/** Meta's throttling codes (application, user, Page, custom, Page business use case). */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80001]);

/**
 * A Reels call refused for a rate limit: at Reels' endpoints that is the Page's 30 reels per
 * rolling 24 hours (or a plain throttle), so the retryable failure says so. Nothing was posted.
 */
async function capped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = error instanceof GraphResponseError ? readGraphError(error.body)?.code : undefined;
    if (!(error instanceof GraphResponseError) || code === undefined || !RATE_LIMIT_CODES.has(code)) throw error;
    const mapped = mapFacebookError(error.status, error.headers, error.body, 'prepare');
    throw new PublishStopped({
      class: 'retryable',
      message: `Facebook allows ${formatNumber(REELS_LIMITS.perPagePerDay)} reels per Page per 24 hours through the API, and refused this one for a limit (${errorDetail(error.body, error.status)}); nothing was posted and the reel will be tried again later.`,
      retryAfterMs: mapped.retryAfterMs,
      platformCode: `meta:${code}`,
    });
  }
}

/**
 * POSTs a whole file to the rupload host, piped from the file with the socket's backpressure, and
 * reads the JSON answer. Node's own http client rather than `fetch`: Node 20's fetch keeps every
 * chunk of a streamed request body until the request ends (300 MB for a 300 MB reel, measured),
 * and a reel is one request. A request that fails after it started may have reached Meta.
 */
function streamUpload(
  url: string,
  headers: Record<string, string>,
  body: Readable,
  signal: AbortSignal | undefined,
): Promise<{ status: number; json: unknown }> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const timeout = AbortSignal.timeout(UPLOAD_TIMEOUT_MS);
    const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const request = client.request(target, { method: 'POST', headers, signal: stop }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
      });
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : (JSON.parse(text) as unknown);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, json });
      });
      response.on('error', (error) => reject(uploadNetworkError(target, error, timeout.aborted)));
    });
    request.on('error', (error) => {
      body.destroy();
      reject(uploadNetworkError(target, error, timeout.aborted));
    });
    pipeline(body, request).catch(() => undefined);
  });
}

const MAX_ANSWER_BYTES = 64 * 1024;

function uploadNetworkError(target: URL, error: Error, timedOut: boolean): NetworkError {
  const code = (error as NodeJS.ErrnoException).code;
  if (timedOut) return new NetworkError(`${target.host} did not answer in time`, true, true);
  const neverConnected = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  return new NetworkError(`${target.host}: ${code ?? error.message}`, !neverConnected, false);
}
