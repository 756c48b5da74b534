/**
 * Checks that need the channel's current state (more-platforms.md §2.3): videos over 15 minutes
 * need a verified channel (`status.longUploadsStatus` is `allowed`). Reads only; a channel that
 * cannot be read blocks nothing (publishing then says what YouTube says).
 */
import { NetworkError } from '../http.js';
import type { PostDraft, TokenSet, ValidationProblem } from '../publisher.js';
import { readChannel } from './channel.js';
import type { YoutubeSettings } from './options.js';

export const MAX_UNVERIFIED_SECONDS = 15 * 60;

export async function validateForChannel(
  settings: Pick<YoutubeSettings, 'apiUrl'>,
  draft: PostDraft,
  tokens: TokenSet,
): Promise<ValidationProblem[]> {
  const video = draft.media.find((m) => m.kind === 'video');
  if (!video || video.durationMs === undefined || video.durationMs <= MAX_UNVERIFIED_SECONDS * 1000) return [];
  let channel;
  try {
    channel = await readChannel(settings, tokens.accessToken);
  } catch (error) {
    if (error instanceof NetworkError) return [];
    throw error;
  }
  if (channel.kind !== 'channel' || channel.longUploadsStatus === undefined || channel.longUploadsStatus === 'allowed') return [];
  const minutes = Math.round(video.durationMs / 6_000) / 10;
  return [
    {
      code: 'video_duration',
      message: `YouTube takes videos over 15 minutes only from verified channels, and ${channel.title} is not verified (long uploads ${channel.longUploadsStatus}); verify it at youtube.com/verify or shorten the video (it lasts ${minutes} minutes).`,
    },
  ];
}
