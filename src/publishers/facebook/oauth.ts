/**
 * Connecting Facebook Pages: Facebook Login with the Page-publishing permissions, then every
 * Page the user ticked becomes one account, published to with its own Page token
 * (platform-apis.md §1.3–1.4).
 */
import type { MetaLogin } from '../meta/login.js';
import { pictureUrl } from '../meta/login.js';
import { arrayField, stringField } from '../meta/graph-json.js';
import type { CallbackRequest, GrantedAccount } from '../publisher.js';
import { ConnectError } from '../publisher.js';

/** The Pages API posts guide's permissions for publishing as a Page. */
export const FACEBOOK_SCOPES = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts'] as const;
const PAGE_FIELDS = 'id,name,access_token,picture.type(large),tasks';
/** The Page task that allows publishing. */
const CREATE_CONTENT = 'CREATE_CONTENT';

export async function connectFacebookPages(login: MetaLogin, request: CallbackRequest): Promise<GrantedAccount[]> {
  const session = await login.connect(request);
  const pages = await login.pages(session, PAGE_FIELDS);
  const accounts: GrantedAccount[] = [];
  for (const page of pages) {
    const id = stringField(page, 'id');
    const token = stringField(page, 'access_token');
    const tasks = arrayField(page, 'tasks');
    // Without the task the Page token can't post; `tasks` is absent for some Page roles.
    if (!id || !token || (tasks.length > 0 && !tasks.includes(CREATE_CONTENT))) continue;
    accounts.push({
      platformAccountId: id,
      platformUserId: session.userId,
      displayName: stringField(page, 'name') ?? id,
      avatarUrl: pictureUrl(page),
      tokens: login.tokensFor(session, token),
    });
  }
  if (accounts.length > 0) return accounts;
  throw new ConnectError(
    pages.length === 0
      ? 'No Facebook Page was granted; connect again and select at least one Page you manage.'
      : "You can't create posts on the Facebook Pages you granted; ask a Page admin for content access, then connect again.",
    'meta:no_page',
  );
}
