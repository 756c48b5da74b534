/**
 * Threads' wire shapes for its simulator: the Graph error envelope Threads answers with (the same
 * as Meta's Graph API, graph-shapes.ts), the errors it names, and its character counting.
 */
import { graphError } from './graph-shapes.js';
import type { SimResponse } from './server.js';

export const THREADS_ERRORS = {
  invalidToken: (): SimResponse => graphError(400, { message: 'Invalid OAuth access token - Cannot parse access token', code: 190 }),
  expired: (expiredAt: Date, now: Date): SimResponse =>
    graphError(400, {
      message: `Error validating access token: Session has expired on ${expiredAt.toUTCString()}. The current time is ${now.toUTCString()}.`,
      code: 190,
      error_subcode: 463,
    }),
  missingToken: (): SimResponse =>
    graphError(400, { message: 'An active access token must be used to query information about the current user.', code: 2500 }),
  permission: (scope: string): SimResponse =>
    graphError(403, {
      message: `(#10) The user has not granted the ${scope} permission to this application`,
      code: 10,
      type: 'OAuthException',
    }),
  parameter: (message: string, subcode?: number): SimResponse =>
    graphError(400, {
      message: message.startsWith('(#') ? message : `(#100) ${message}`,
      code: 100,
      type: 'THApiException',
      ...(subcode !== undefined ? { error_subcode: subcode } : {}),
    }),
  unsupported: (method: string, id: string): SimResponse =>
    graphError(400, {
      message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      type: 'THApiException',
      code: 100,
      error_subcode: 33,
    }),
  /** The daily cap of posts (or replies) through the API; the real code is unverified (more-platforms.md §3.7), Instagram's is used. */
  dailyCap: (what: string, total: number): SimResponse =>
    graphError(400, {
      message: 'Application request limit reached',
      code: 9,
      error_subcode: 2207042,
      type: 'THApiException',
      error_user_title: 'Reached maximum number of posts',
      error_user_msg: `You reached the maximum of ${total} ${what} in 24 hours that can be published through the Threads API.`,
    }),
};

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** Threads' documented rule: characters count 1, emoji their UTF-8 bytes (read for whole graphemes). */
export function threadsLength(text: string): number {
  let count = 0;
  for (const { segment } of segmenter.segment(text)) count += EMOJI.test(segment) ? Buffer.byteLength(segment) : 1;
  return count;
}
