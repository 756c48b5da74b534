/**
 * Whether an unconfirmed YouTube upload is live (issue 17; more-platforms.md §2.9). With the
 * video id (kept as soon as YouTube answered with it), `videos.list?id=&part=status`. Without it
 * (the answer to the last bytes was lost), the channel's uploads playlist, newest first, is
 * searched for a video with the same title uploaded around the committing request. Reads only.
 */
import { NetworkError, httpRequest } from '../http.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { readChannel } from './channel.js';
import { apiError, arrayField, objectField, stringField } from './json.js';
import { videoLink, youtubeText } from './limits.js';
import type { YoutubeSettings } from './options.js';

/** How many of the newest uploads are read (one page, 1 quota unit). */
const PAGE = 50;
/** A video just accepted may not be listed yet: 'not there' this soon tells nothing. */
const LISTING_DELAY_MS = 60_000;
/** Clocks differ: an upload listed shortly before the committing request may still be it. */
const CLOCK_SLACK_MS = 5 * 60_000;

export async function verifyOnYoutube(settings: YoutubeSettings, request: VerifyRequest): Promise<VerifyResult> {
  try {
    return request.platformId ? await byId(settings, request, request.platformId) : await inUploads(settings, request);
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `YouTube could not be reached (${error.message})` };
    throw error;
  }
}

async function byId(settings: YoutubeSettings, request: VerifyRequest, videoId: string): Promise<VerifyResult> {
  const response = await get(settings, request, `/youtube/v3/videos?part=status&id=${encodeURIComponent(videoId)}`);
  if (response.status !== 200)
    return { kind: 'unknown', reason: `YouTube did not say (${apiError(response.json)?.reason ?? `HTTP ${response.status}`})` };
  const item = arrayField(response.json, 'items')[0];
  if (!item) return { kind: 'absent', reason: 'YouTube has no video with the id the upload answered (deleted since)' };
  const status = objectField(item, 'status');
  switch (stringField(status, 'uploadStatus')) {
    case 'failed':
      return {
        kind: 'absent',
        reason: `YouTube could not process the video (${stringField(status, 'failureReason') ?? 'no reason given'})`,
      };
    case 'rejected':
      return { kind: 'absent', reason: `YouTube rejected the video (${stringField(status, 'rejectionReason') ?? 'no reason given'})` };
    case 'deleted':
      return { kind: 'absent', reason: 'the video was deleted on YouTube' };
    default:
      return { kind: 'live', platformPostId: videoId, permalink: videoLink(videoId, false) };
  }
}

async function inUploads(settings: YoutubeSettings, request: VerifyRequest): Promise<VerifyResult> {
  const channel = await readChannel(settings, request.tokens.accessToken, request.signal);
  if (channel.kind === 'error') return { kind: 'unknown', reason: `YouTube did not return the channel (${channel.code})` };
  if (channel.kind === 'none' || !channel.uploadsPlaylist)
    return { kind: 'unknown', reason: 'YouTube returned no uploads list for the channel' };
  const response = await get(
    settings,
    request,
    `/youtube/v3/playlistItems?part=snippet&maxResults=${PAGE}&playlistId=${encodeURIComponent(channel.uploadsPlaylist)}`,
  );
  if (response.status !== 200)
    return {
      kind: 'unknown',
      reason: `YouTube did not list the uploads (${apiError(response.json)?.reason ?? `HTTP ${response.status}`})`,
    };
  const { title } = youtubeText(request.text);
  const since = request.committedAt.getTime() - CLOCK_SLACK_MS;
  const known = new Set(request.knownIds ?? []);
  const items = arrayField(response.json, 'items');
  let oldest = Number.POSITIVE_INFINITY;
  for (const item of items) {
    const snippet = objectField(item, 'snippet');
    const videoId = stringField(objectField(snippet, 'resourceId'), 'videoId');
    const at = Date.parse(stringField(snippet, 'publishedAt') ?? '');
    if (Number.isFinite(at)) oldest = Math.min(oldest, at);
    if (!videoId || known.has(videoId) || !(at >= since)) continue;
    if (stringField(snippet, 'title') === title) return { kind: 'live', platformPostId: videoId, permalink: videoLink(videoId, false) };
  }
  if (Date.now() - request.committedAt.getTime() < LISTING_DELAY_MS)
    return { kind: 'unknown', reason: 'YouTube may not list an upload this recent yet' };
  if (items.length >= PAGE && oldest >= since)
    return { kind: 'unknown', reason: `the channel uploaded more than ${PAGE} videos since; too many to read` };
  return { kind: 'absent', reason: 'no video with this title was uploaded to the channel around that time' };
}

function get(settings: YoutubeSettings, request: VerifyRequest, path: string) {
  return httpRequest(`${settings.apiUrl}${path}`, {
    headers: { Authorization: `Bearer ${request.tokens.accessToken}` },
    signal: request.signal,
    timeoutMs: 15_000,
  });
}
