/**
 * twitter-text (X's own counting of a post's length, URLs and cashtags), loaded at the first
 * X validation rather than at start: some 10 MB resident that a service never validating an X
 * post does not need (issue 19). It is CommonJS, so `require` loads it synchronously and the
 * validators stay synchronous. Every other module reaches it through here.
 */
import { createRequire } from 'node:module';
import type TwitterText from 'twitter-text';

let loaded: typeof TwitterText | undefined;

export function twitterText(): typeof TwitterText {
  loaded ??= createRequire(import.meta.url)('twitter-text') as typeof TwitterText;
  return loaded;
}
