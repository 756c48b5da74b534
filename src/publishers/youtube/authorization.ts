/**
 * The connection health check for YouTube (issue 17): `channels.list?mine=true` with the
 * account's token (1 quota unit), refusals mapped as a publish maps them. A grant whose Google
 * account no longer has the channel is refused too.
 */
import { NetworkError } from '../http.js';
import type { AccountRef, AuthorizationCheck, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import { readChannel } from './channel.js';
import { mapYoutubeError } from './errors.js';
import type { YoutubeSettings } from './options.js';

export async function checkYoutubeAuthorization(
  settings: Pick<YoutubeSettings, 'apiUrl'>,
  account: AccountRef,
  tokens: TokenSet,
  signal?: AbortSignal,
): Promise<AuthorizationCheck> {
  try {
    const channel = await readChannel(settings, tokens.accessToken, signal);
    if (channel.kind === 'error')
      return authorizationFromFailure(
        mapYoutubeError(channel.response.status, channel.response.headers, channel.response.json, 'before-commit'),
      );
    if (channel.kind === 'none')
      return { kind: 'refused', reason: 'The Google account has no YouTube channel any more; connect it again.' };
    if (channel.id !== account.platformAccountId)
      return { kind: 'refused', reason: `The access now opens another YouTube channel (${channel.title}); connect the channel again.` };
    return { kind: 'ok' };
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `YouTube could not be reached (${error.message})` };
    throw error;
  }
}
