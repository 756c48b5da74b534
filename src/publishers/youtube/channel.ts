/**
 * The channel behind a grant (more-platforms.md §2.3): `channels.list?mine=true` answers the one
 * channel the person picked on Google's consent screen, or no item when the Google account has
 * no channel.
 */
import type { HttpResponse } from '../http.js';
import { httpRequest } from '../http.js';
import { apiError, arrayField, objectField, stringField } from './json.js';
import type { YoutubeSettings } from './options.js';

export type ChannelRead =
  | {
      kind: 'channel';
      id: string;
      title: string;
      /** customUrl without its '@' */
      handle?: string | undefined;
      avatarUrl?: string | undefined;
      /** contentDetails.relatedPlaylists.uploads: every upload of the channel, newest first. */
      uploadsPlaylist?: string | undefined;
      /** status.longUploadsStatus: `allowed` once the channel is verified (videos over 15 minutes), else eligible/disallowed. */
      longUploadsStatus?: string | undefined;
    }
  | { kind: 'none' }
  | { kind: 'error'; code: string; response: HttpResponse };

export async function readChannel(
  settings: Pick<YoutubeSettings, 'apiUrl'>,
  accessToken: string,
  signal?: AbortSignal,
): Promise<ChannelRead> {
  const response = await httpRequest(`${settings.apiUrl}/youtube/v3/channels?part=snippet,contentDetails,status&mine=true`, {
    headers: { Authorization: `Bearer ${accessToken}` },
    signal,
    timeoutMs: 15_000,
  });
  if (response.status !== 200) return { kind: 'error', code: apiError(response.json)?.reason ?? `http_${response.status}`, response };
  const item = arrayField(response.json, 'items')[0];
  const id = stringField(item, 'id');
  if (!id) return { kind: 'none' };
  const snippet = objectField(item, 'snippet');
  const customUrl = stringField(snippet, 'customUrl');
  const thumbnails = objectField(snippet, 'thumbnails');
  return {
    kind: 'channel',
    id,
    title: stringField(snippet, 'title') ?? customUrl ?? id,
    handle: customUrl?.replace(/^@/, ''),
    avatarUrl: stringField(objectField(thumbnails, 'default'), 'url'),
    uploadsPlaylist: stringField(objectField(objectField(item, 'contentDetails'), 'relatedPlaylists'), 'uploads'),
    longUploadsStatus: stringField(objectField(item, 'status'), 'longUploadsStatus'),
  };
}
