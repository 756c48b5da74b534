/**
 * The privacy words of the chat grammar (contract.md §4: `tiktok:public` …) and TikTok's
 * `privacy_level` values. TikTok's audit forbids a preselected privacy level, so there is no
 * default: the person always names one.
 */

export const PRIVACY_WORDS = ['public', 'friends', 'followers', 'private'] as const;
export type PrivacyWord = (typeof PRIVACY_WORDS)[number];

/** What chat forms show for each word. */
export const PRIVACY_LABELS: Readonly<Record<PrivacyWord, string>> = {
  public: 'Everyone (public)',
  friends: 'Friends (mutual followers)',
  followers: 'Followers',
  private: 'Only me (private)',
};

export type PrivacyLevel = 'PUBLIC_TO_EVERYONE' | 'MUTUAL_FOLLOW_FRIENDS' | 'FOLLOWER_OF_CREATOR' | 'SELF_ONLY';

const LEVELS: Record<PrivacyWord, PrivacyLevel> = {
  public: 'PUBLIC_TO_EVERYONE',
  friends: 'MUTUAL_FOLLOW_FRIENDS',
  followers: 'FOLLOWER_OF_CREATOR',
  private: 'SELF_ONLY',
};

/** The draft's privacy option, normalised; undefined when absent. */
export function privacyOption(options: Readonly<Record<string, string>>): string | undefined {
  const value = options.privacy?.trim().toLowerCase();
  return value ? value : undefined;
}

export function isPrivacyWord(value: string): value is PrivacyWord {
  return (PRIVACY_WORDS as readonly string[]).includes(value);
}

export function privacyLevel(word: PrivacyWord): PrivacyLevel {
  return LEVELS[word];
}

/** The chat word for a TikTok level (for messages), or the level itself when TikTok adds a new one. */
export function privacyWord(level: string): string {
  const entry = Object.entries(LEVELS).find(([, l]) => l === level);
  return entry ? entry[0] : level;
}

/** "tiktok:public, tiktok:friends or tiktok:private" */
export function targetList(words: readonly string[]): string {
  const targets = words.map((w) => `tiktok:${w}`);
  return targets.length <= 1 ? (targets[0] ?? '') : `${targets.slice(0, -1).join(', ')} or ${targets[targets.length - 1]}`;
}
