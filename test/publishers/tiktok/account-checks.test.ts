import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useNock } from '../../helpers/nock.js';
import { API, ACCESS, createPublisher, JSON_HEADERS, ok } from './helpers.js';

const account = { platformAccountId: 'open-1', handle: 'acme', displayName: 'Acme' };
const tokens = { accessToken: ACCESS };
const video = {
  id: 'v',
  kind: 'video' as const,
  mimeType: 'video/mp4',
  sizeBytes: 1000,
  sha256: 'x',
  durationMs: 120_000,
  width: 1080,
  height: 1920,
};

function creatorInfo(levels: string[], maxSeconds = 600) {
  nock(API, { reqheaders: JSON_HEADERS })
    .post('/v2/post/publish/creator_info/query/')
    .reply(
      200,
      ok({
        creator_username: 'acme',
        privacy_level_options: levels,
        max_video_post_duration_sec: maxSeconds,
        comment_disabled: false,
        duet_disabled: false,
        stitch_disabled: false,
      }),
    );
}

useNock();

describe('TikTok checks against creator_info', () => {
  it("lists THIS creator's privacy levels when none was chosen", async () => {
    creatorInfo(['FOLLOWER_OF_CREATOR', 'SELF_ONLY']);
    const problems = await createPublisher().validateForAccount!({ caption: 'hi', media: [video], options: {} }, account, tokens);
    expect(problems).toEqual([
      { code: 'privacy_required', message: 'TikTok @acme needs a privacy level: add tiktok:followers or tiktok:private to the targets.' },
    ]);
  });

  it('refuses a level the creator does not offer, and a video longer than the creator may post', async () => {
    creatorInfo(['SELF_ONLY'], 60);
    const problems = await createPublisher().validateForAccount!(
      { caption: 'hi', media: [video], options: { privacy: 'public' } },
      account,
      tokens,
    );
    expect(problems.map((p) => p.message)).toEqual([
      'TikTok @acme does not allow "public" posts; its allowed privacy levels are private (use tiktok:private).',
      'TikTok @acme can post videos up to 60 seconds; this video lasts 120.0 seconds.',
    ]);
  });

  it('tells a chat form which privacy levels the creator allows now, in the words of the grammar', async () => {
    creatorInfo(['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'SELF_ONLY']);
    expect(await createPublisher().targetOptionChoices!(account, tokens)).toEqual(['public', 'friends', 'private']);
  });

  it('says when TikTok will not tell the privacy levels (the form then offers every level)', async () => {
    nock(API, { reqheaders: JSON_HEADERS })
      .post('/v2/post/publish/creator_info/query/')
      .reply(200, { data: {}, error: { code: 'spam_risk_too_many_posts', message: 'Too many posts today', log_id: 'log-1' } });
    await expect(createPublisher().targetOptionChoices!(account, tokens)).rejects.toThrow();
  });

  it('passes an allowed choice', async () => {
    creatorInfo(['PUBLIC_TO_EVERYONE', 'SELF_ONLY']);
    expect(
      await createPublisher().validateForAccount!({ caption: 'hi', media: [video], options: { privacy: 'public' } }, account, tokens),
    ).toEqual([]);
  });
});
