/**
 * Facebook's error mapping: Meta's shared codes plus the Page-publishing subcodes seen in
 * practice (platform-apis.md §1.7, postiz's table).
 */
import { mapMetaError, type MetaErrorRule, type MetaErrorTable, type PublishStage } from '../meta/errors.js';
import type { Failure } from '../publisher.js';

const content = (message: (detail: string) => string): MetaErrorRule => ({ class: 'content', message });

const FACEBOOK_ERRORS: MetaErrorTable = {
  platform: 'Facebook',
  subcodes: {
    1366046: content(() => 'Facebook refused a photo: it must be a JPEG or PNG under 4 MB; make it smaller or convert it.'),
    1390008: {
      class: 'retryable',
      message: () => 'Facebook says this Page is posting too fast; the post will be tried again in a while.',
    },
    1346003: content((d) => `Facebook flagged this post as abusive (${d}); change the post before trying again.`),
    1366051: content(() => 'Facebook refused these photos because they were already posted; use other photos.'),
    1609008: content(() => "Facebook doesn't allow posting links to facebook.com this way; remove the link."),
    2061006: content((d) => `Facebook refused a URL in this post (${d}); check the links.`),
  },
  codes: {
    324: content((d) => `Facebook could not read a photo (${d}); upload it again as JPEG or PNG.`),
  },
};

/** Facebook's answer (status, headers, body) at a given stage of a publish, as a Failure. */
export function mapFacebookError(status: number, headers: Headers, body: unknown, stage: PublishStage): Failure {
  return mapMetaError(FACEBOOK_ERRORS, status, headers, body, stage);
}
