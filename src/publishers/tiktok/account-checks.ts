/**
 * Validation against the creator's current settings (creator_info), so the chat can list the
 * privacy levels THIS creator may use — the contract's "replies with the allowed options" —
 * and refuse an over-long video before anything is approved.
 */
import type { AccountRef, PostDraft, TokenSet, ValidationProblem } from '../publisher.js';
import { queryCreatorInfo } from './creator-info.js';
import type { TiktokSettings } from './options.js';
import { isPrivacyWord, privacyLevel, privacyOption, privacyWord, targetList } from './privacy.js';

export async function validateForCreator(
  settings: TiktokSettings,
  draft: PostDraft,
  account: AccountRef,
  tokens: TokenSet,
): Promise<ValidationProblem[]> {
  let creator;
  try {
    creator = await queryCreatorInfo(settings, tokens.accessToken);
  } catch {
    // TikTok could not be asked now; the static checks stand and publishing checks again.
    return [];
  }
  const name = `TikTok ${account.handle ? `@${account.handle}` : account.displayName}`;
  const allowed = creator.privacyLevels.map(privacyWord);
  const problems: ValidationProblem[] = [];
  const chosen = privacyOption(draft.options);
  if (chosen === undefined)
    problems.push({
      code: 'privacy_required',
      message:
        allowed.length > 0
          ? `${name} needs a privacy level: add ${targetList(allowed)} to the targets.`
          : `${name} offers no privacy level to post with right now; check the account in the TikTok app.`,
    });
  else if (isPrivacyWord(chosen) && !creator.privacyLevels.includes(privacyLevel(chosen)))
    problems.push({
      code: 'privacy_not_allowed',
      message: `${name} does not allow "${chosen}" posts; its allowed privacy levels are ${allowed.join(', ')} (use ${targetList(allowed)}).`,
    });
  const video = draft.media.find((m) => m.kind === 'video');
  if (video?.durationMs !== undefined && creator.maxVideoSeconds !== undefined && video.durationMs > creator.maxVideoSeconds * 1000)
    problems.push({
      code: 'video_too_long_for_creator',
      message: `${name} can post videos up to ${creator.maxVideoSeconds} seconds; this video lasts ${(video.durationMs / 1000).toFixed(1)} seconds.`,
    });
  return problems;
}
