/** Videos over 15 minutes need a verified channel: checked against channels.list before approval. */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PostDraft } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, CHANNEL_ID, arrangeChannel, channelList, createPublisher } from './helpers.js';

useNock();

const account = { platformAccountId: CHANNEL_ID, handle: 'acme', displayName: 'Acme Inc' };
function draft(minutes: number): PostDraft {
  const video: MediaInfo = { id: 'v', kind: 'video', mimeType: 'video/mp4', sizeBytes: 1, sha256: 'x', durationMs: minutes * 60_000 };
  return { caption: 'Title', media: [video], options: {} };
}
function channelWith(longUploadsStatus: string): Record<string, unknown> {
  const list = channelList() as { items: Array<Record<string, unknown>> };
  return { ...list, items: [{ ...list.items[0], status: { privacyStatus: 'public', longUploadsStatus } }] };
}

describe('YouTube channel checks', () => {
  it('reads nothing for videos of 15 minutes or less', async () => {
    expect(await createPublisher().validateForAccount!(draft(15), account, { accessToken: ACCESS })).toEqual([]);
  });

  it('refuses a longer video for an unverified channel, and accepts it for a verified one', async () => {
    arrangeChannel(channelWith('eligible'));
    expect(await createPublisher().validateForAccount!(draft(20), account, { accessToken: ACCESS })).toEqual([
      {
        code: 'video_duration',
        message:
          'YouTube takes videos over 15 minutes only from verified channels, and Acme Inc is not verified (long uploads eligible); verify it at youtube.com/verify or shorten the video (it lasts 20 minutes).',
      },
    ]);
    arrangeChannel(channelWith('allowed'));
    expect(await createPublisher().validateForAccount!(draft(20), account, { accessToken: ACCESS })).toEqual([]);
  });
});
