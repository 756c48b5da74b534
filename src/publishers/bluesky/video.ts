/**
 * A video through Bluesky's video service (more-platforms.md §4.7, docs.bsky.app tutorials/video):
 * the PDS issues service-auth tokens (com.atproto.server.getServiceAuth), the service says
 * whether this account may upload now (app.bsky.video.getUploadLimits), takes the MP4 streamed
 * (app.bsky.video.uploadVideo, its token addressed to the account's PDS, which the service
 * writes the blob to), and processes it (app.bsky.video.getJobStatus until the blob appears).
 */
import type { OAuthSession } from '@atproto/oauth-client-node';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { httpRequest, NetworkError, type HttpResponse } from '../http.js';
import type { MediaInfo } from '../../media/media.js';
import type { Failure, PublishRequest } from '../publisher.js';
import { blueskySaid, mapBlueskyError, mapBlueskyNetworkError, readProblem } from './errors.js';
import { BlueskyCallFailed, field, queryString, stringField, xrpc } from './xrpc.js';

export interface VideoOptions {
  /** BLUESKY_VIDEO_URL, e.g. https://video.bsky.app */
  videoUrl: string;
  pollIntervalMs: number;
  maxWaitMs: number;
}

/** A did:web for a service's host, as service-auth audiences name it. */
export function didWeb(url: string): string {
  return `did:web:${encodeURIComponent(new URL(url).host)}`;
}

async function serviceToken(session: OAuthSession, aud: string, lxm: string, expSeconds?: number): Promise<string> {
  const json = await xrpc(session, 'com.atproto.server.getServiceAuth', {
    query: { aud, lxm, exp: expSeconds === undefined ? undefined : String(Math.floor(Date.now() / 1000) + expSeconds) },
    stage: 'upload',
  });
  const token = stringField(json, 'token');
  if (!token)
    throw new BlueskyCallFailed({
      class: 'retryable',
      message: 'Bluesky issued no service token for the video; try again.',
      platformCode: 'bluesky:getServiceAuth',
    });
  return token;
}

async function videoCall(url: string, init: Parameters<typeof httpRequest>[1], mayCommit = false): Promise<HttpResponse> {
  try {
    return await httpRequest(url, init);
  } catch (error) {
    if (error instanceof NetworkError)
      throw new BlueskyCallFailed(mapBlueskyNetworkError(error, 'upload', mayCommit && error.mayHaveReached));
    throw error;
  }
}

export async function uploadVideo(
  options: VideoOptions,
  session: OAuthSession,
  video: MediaInfo,
  request: PublishRequest,
  onBytesSent: (bytes: number) => void,
): Promise<unknown> {
  const base = options.videoUrl.replace(/\/+$/, '');
  const did = session.did;
  // 1. May this account upload a video now (verified e-mail, daily caps)?
  const limitsToken = await serviceToken(session, didWeb(base), 'app.bsky.video.getUploadLimits');
  const limits = await videoCall(`${base}/xrpc/app.bsky.video.getUploadLimits`, {
    headers: { authorization: `Bearer ${limitsToken}` },
    signal: request.signal,
  });
  if (limits.status !== 200) throw new BlueskyCallFailed(mapBlueskyError(limits, 'upload'));
  if (field(limits.json, 'canUpload') !== true)
    throw new BlueskyCallFailed({
      class: 'content',
      message: `Bluesky does not let this account upload a video now${blueskySaid({ message: stringField(limits.json, 'message') ?? stringField(limits.json, 'error') })}.`,
      platformCode: 'bluesky:canUpload',
    });
  // 2. The upload, its token addressed to the account's PDS (the service stores the blob there).
  const pds = (await session.getTokenInfo(false)).aud;
  const uploadToken = await serviceToken(session, didWeb(pds), 'com.atproto.repo.uploadBlob', 30 * 60);
  const name = `${video.sha256.slice(0, 16)}.mp4`;
  const uploaded = await streamUpload(`${base}/xrpc/app.bsky.video.uploadVideo${queryString({ did, name })}`, {
    authorization: `Bearer ${uploadToken}`,
    length: video.sizeBytes,
    body: await request.media.stream(video),
    signal: request.signal,
  });
  onBytesSent(video.sizeBytes);
  let job = field(uploaded.json, 'jobStatus') ?? uploaded.json;
  // The same video uploaded before: the service answers `already_exists` with its job.
  const problem = readProblem(uploaded.json);
  if (uploaded.status !== 200 && !(problem.error === 'already_exists' && stringField(job, 'jobId')))
    throw new BlueskyCallFailed(mapBlueskyError(uploaded, 'upload'));
  // 3. Processing.
  request.onProgress?.({ phase: 'processing', bytesSent: video.sizeBytes, bytesTotal: video.sizeBytes });
  const deadline = Date.now() + options.maxWaitMs;
  for (;;) {
    const blob = field(job, 'blob');
    if (blob) return blob;
    const state = stringField(job, 'state');
    if (state === 'JOB_STATE_FAILED') throw new BlueskyCallFailed(jobFailure(job));
    const jobId = stringField(job, 'jobId');
    if (!jobId)
      throw new BlueskyCallFailed({
        class: 'retryable',
        message: 'Bluesky did not say which video job to follow; try again.',
        platformCode: 'bluesky:jobId',
      });
    if (Date.now() >= deadline)
      throw new BlueskyCallFailed({
        class: 'retryable',
        message: 'Bluesky took too long to process the video; try again later.',
        platformCode: 'bluesky:video-timeout',
      });
    await sleep(options.pollIntervalMs, undefined, { signal: request.signal });
    const status = await videoCall(`${base}/xrpc/app.bsky.video.getJobStatus${queryString({ jobId })}`, { signal: request.signal });
    if (status.status !== 200) throw new BlueskyCallFailed(mapBlueskyError(status, 'upload'));
    job = field(status.json, 'jobStatus');
  }
}

/**
 * The one large request: the MP4 streamed as the body of a POST, with node:http(s) and
 * backpressure. Not `fetch`: fetch keeps what it has sent of a streamed body (a 300 MB video grew
 * the process by 300 MB when measured); a piped http request holds only what is in flight.
 */
async function streamUpload(
  url: string,
  upload: { authorization: string; length: number; body: Readable; signal?: AbortSignal | undefined },
): Promise<HttpResponse> {
  const target = new URL(url);
  // Looked up at call time (not imported by name), so an interceptor installed later (nock in tests) sees it.
  const send = target.protocol === 'https:' ? https.request : http.request;
  try {
    const { status, headers, text } = await new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
      const outgoing = send(
        target,
        {
          method: 'POST',
          headers: { authorization: upload.authorization, 'content-type': 'video/mp4', 'content-length': String(upload.length) },
          signal: upload.signal,
          timeout: UPLOAD_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= 64 * 1024) chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            const answerHeaders = new Headers();
            for (const [key, value] of Object.entries(response.headers))
              if (value !== undefined) answerHeaders.set(key, Array.isArray(value) ? value.join(', ') : value);
            resolve({ status: response.statusCode ?? 0, headers: answerHeaders, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`${target.host} did not answer in time`)));
      outgoing.on('error', reject);
      pipeline(upload.body, outgoing).catch(reject);
    });
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status, headers, json, text: text.slice(0, 4_000) };
  } catch (error) {
    upload.body.destroy();
    if (upload.signal?.aborted) throw error;
    // Before the video is in a post nothing is live: any failure here is worth another try.
    throw new BlueskyCallFailed(mapBlueskyNetworkError(error instanceof Error ? error : new Error(String(error)), 'upload', false));
  }
}

const UPLOAD_TIMEOUT_MS = 30 * 60_000;

function jobFailure(job: unknown): Failure {
  const code = stringField(job, 'error') ?? stringField(job, 'failureCode') ?? 'generic_failure';
  const said = blueskySaid({ message: stringField(job, 'message') ?? code });
  if (code === 'validation_failure' || code === 'pds_upload_unsupported_blob_size' || code === 'encoding_failure')
    return {
      class: 'content',
      message: `Bluesky could not use this video${said}; change it before posting again.`,
      platformCode: `bluesky:${code}`,
    };
  return { class: 'retryable', message: `Bluesky failed to process the video${said}; try again later.`, platformCode: `bluesky:${code}` };
}
