/**
 * Connecting Instagram professional accounts through Facebook Login (platform-apis.md §2.2,
 * §2.4): the user's Pages, each Page's linked `instagram_business_account`, then that account's
 * profile. Publishing uses the linked Page's token, which does not expire (postiz does the same),
 * where the user token would need a new login every 60 days.
 */
import { objectField, stringField } from '../meta/graph-json.js';
import type { MetaLogin } from '../meta/login.js';
import type { CallbackRequest, GrantedAccount } from '../publisher.js';
import { ConnectError } from '../publisher.js';

export const INSTAGRAM_SCOPES = [
  'instagram_basic',
  'instagram_content_publish',
  'pages_show_list',
  'pages_read_engagement',
  'business_management',
] as const;
const PAGE_FIELDS = 'id,name,access_token,instagram_business_account';
const PROFILE_FIELDS = 'id,username,name,profile_picture_url';

export async function connectInstagramAccounts(login: MetaLogin, request: CallbackRequest): Promise<GrantedAccount[]> {
  const session = await login.connect(request);
  const pages = await login.pages(session, PAGE_FIELDS);
  const accounts = new Map<string, GrantedAccount>();
  for (const page of pages) {
    const igId = stringField(objectField(page, 'instagram_business_account'), 'id');
    const pageToken = stringField(page, 'access_token');
    if (!igId || !pageToken || accounts.has(igId)) continue;
    const profile = await login.get('read the Instagram profile', igId, session, PROFILE_FIELDS);
    const username = stringField(profile, 'username');
    accounts.set(igId, {
      platformAccountId: igId,
      platformUserId: session.userId,
      handle: username,
      displayName: stringField(profile, 'name') ?? username ?? igId,
      avatarUrl: stringField(profile, 'profile_picture_url'),
      tokens: login.tokensFor(session, pageToken),
    });
  }
  if (accounts.size > 0) return [...accounts.values()];
  throw new ConnectError(
    pages.length === 0
      ? 'No Facebook Page was granted; Instagram accounts are reached through their linked Page, so connect again and select it.'
      : 'None of the Facebook Pages you granted has an Instagram professional account linked; link one in the Page settings, then connect again.',
    'meta:no_instagram_account',
  );
}
