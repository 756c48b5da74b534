/**
 * creator_info (platform-apis.md §4.4): called before every post, because what a creator may
 * post changes (privacy levels offered, interaction switches, maximum video length).
 */
import { envelopeData, postJson } from './api.js';
import { expectSuccess } from './errors.js';
import { asNumber, asString, asStrings } from './json.js';
import type { TiktokSettings } from './options.js';

export interface CreatorInfo {
  username?: string | undefined;
  nickname?: string | undefined;
  privacyLevels: string[];
  commentDisabled: boolean;
  duetDisabled: boolean;
  stitchDisabled: boolean;
  maxVideoSeconds?: number | undefined;
}

export async function queryCreatorInfo(settings: TiktokSettings, accessToken: string, signal?: AbortSignal): Promise<CreatorInfo> {
  const response = await expectSuccess(
    postJson(settings, '/v2/post/publish/creator_info/query/', accessToken, undefined, signal),
    'before-commit',
  );
  const data = envelopeData(response.json);
  return {
    username: asString(data.creator_username),
    nickname: asString(data.creator_nickname),
    privacyLevels: asStrings(data.privacy_level_options),
    commentDisabled: data.comment_disabled === true,
    duetDisabled: data.duet_disabled === true,
    stitchDisabled: data.stitch_disabled === true,
    maxVideoSeconds: asNumber(data.max_video_post_duration_sec),
  };
}
