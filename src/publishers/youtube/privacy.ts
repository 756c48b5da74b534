/**
 * The privacy words of the chat grammar (`youtube:public|unlisted|private`) and YouTube's
 * `status.privacyStatus`. YouTube makes an upload without a privacy status public (since
 * 2 Nov 2026, more-platforms.md §2.5), so a post that names none is public, and IQSP always
 * sends the status it means.
 */

export const PRIVACY_WORDS = ['public', 'unlisted', 'private'] as const;
export type PrivacyWord = (typeof PRIVACY_WORDS)[number];
export const DEFAULT_PRIVACY: PrivacyWord = 'public';

/** What chat forms show for each word. */
export const PRIVACY_LABELS: Readonly<Record<PrivacyWord, string>> = {
  public: 'Public (everyone)',
  unlisted: 'Unlisted (anyone with the link)',
  private: 'Private (only the channel)',
};

export function isPrivacyWord(value: string): value is PrivacyWord {
  return (PRIVACY_WORDS as readonly string[]).includes(value);
}

/** The draft's privacy option, normalised; undefined when absent (then public). */
export function privacyOption(options: Readonly<Record<string, string>>): string | undefined {
  const value = options.privacy?.trim().toLowerCase();
  return value ? value : undefined;
}
