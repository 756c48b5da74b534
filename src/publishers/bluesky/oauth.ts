/**
 * Connecting a Bluesky account with AT Protocol OAuth (more-platforms.md §4.3–4.6), never an app
 * password. `startConsent` runs the library's authorize against the entryway (discovery, PAR
 * with PKCE, DPoP and, for a confidential client, a client assertion), so the person picks
 * their account at their server; the library's pending-authorization record goes back to core
 * as the round trip's sealed secret, and comes back at the callback, where the library checks
 * the issuer, exchanges the code and verifies that the DID's PDS is served by that issuer.
 *
 * Refresh tokens are single-use and rotate: core's token store holds a per-account lease across
 * instances, calls `refresh`, and persists the new pair before anyone uses it.
 */
import type { NodeSavedSession, NodeSavedState } from '@atproto/oauth-client-node';
import type { AccountRef, CallbackRequest, ConsentRequest, GrantedAccount, StartedConsent, TokenSet } from '../publisher.js';
import { ConnectError, TokenRefreshError } from '../publisher.js';
import { MemoryStore, type BlueskyClient } from './client.js';
import { rateLimitWaitMs } from './errors.js';
import { sessionFromTokens, tokensFromSession } from './session.js';
import { stringField, xrpcAnswer } from './xrpc.js';

interface RoundTripSecret {
  state: string;
  value: NodeSavedState;
}

export async function startConsent(client: BlueskyClient, request: ConsentRequest): Promise<StartedConsent> {
  const states = new MemoryStore<NodeSavedState>();
  const oauth = await client.build({ state: states });
  let url: URL;
  try {
    // The entryway, not a handle: the person chooses their account on their server's page.
    url = await oauth.authorize(client.options.handleResolverUrl, { state: request.state });
  } catch (error) {
    throw new ConnectError(
      `Bluesky's sign-in could not be started (${describe(error)}); try again in a minute.`,
      `bluesky:${error instanceof Error ? error.constructor.name : 'authorize'}`,
    );
  }
  const [entry] = states.list();
  if (!entry) throw new Error('the OAuth library kept no pending authorization');
  const [state, value] = entry;
  const secret: RoundTripSecret = { state, value };
  return { url: url.href, state, secret: JSON.stringify(secret) };
}

export async function finishConnect(client: BlueskyClient, request: CallbackRequest): Promise<GrantedAccount[]> {
  if (!request.roundTripSecret)
    throw new ConnectError('This Bluesky sign-in lost what it started with; connect the account again.', 'bluesky:state');
  const secret = JSON.parse(request.roundTripSecret) as RoundTripSecret;
  const states = new MemoryStore<NodeSavedState>();
  states.set(secret.state, secret.value);
  const sessions = new MemoryStore<NodeSavedSession>();
  const oauth = await client.build({ state: states, session: sessions });
  let did: string;
  let session;
  try {
    ({ session } = await oauth.callback(new URLSearchParams(request.query)));
    did = session.did;
  } catch (error) {
    throw new ConnectError(
      `Bluesky did not complete the sign-in (${describe(error)}); connect the account again.`,
      `bluesky:${error instanceof Error ? error.constructor.name : 'callback'}`,
    );
  }
  const saved = sessions.get(did);
  if (!saved) throw new ConnectError('Bluesky answered without a session; connect the account again.', 'bluesky:session');
  const scopes = (saved.tokenSet.scope ?? '').split(/\s+/);
  if (!scopes.includes('transition:generic')) {
    await oauth.revoke(did).catch(() => undefined);
    throw new ConnectError(
      'Bluesky did not grant IQSP permission to post (transition:generic); connect the account again and allow it.',
      'bluesky:scope',
    );
  }
  const profile = await xrpcAnswer(session, 'app.bsky.actor.getProfile', { query: { actor: did }, stage: 'read' }).catch(() => undefined);
  const handle = profile?.ok ? stringField(profile.json, 'handle') : undefined;
  return [
    {
      platformAccountId: did,
      platformUserId: did,
      handle: handle && handle !== 'handle.invalid' ? handle : undefined,
      displayName: (profile?.ok ? stringField(profile.json, 'displayName') : undefined) || handle || did,
      avatarUrl: profile?.ok ? stringField(profile.json, 'avatar') : undefined,
      tokens: tokensFromSession(saved),
    },
  ];
}

/**
 * Spends the refresh token once, through the library (it checks again that the DID's PDS is
 * served by the issuer, signs a new client assertion and DPoP proof with the session's key) and
 * returns the new pair for core to persist.
 */
export async function refreshTokens(client: BlueskyClient, tokens: TokenSet): Promise<TokenSet> {
  if (!tokens.refreshToken) throw new TokenRefreshError('Bluesky gave this account no refresh token; connect it again.', true);
  const before = sessionFromTokens(tokens, true);
  const did = before.tokenSet.sub;
  const sessions = new MemoryStore<NodeSavedSession>();
  sessions.set(did, before);
  const oauth = await client.build({ session: sessions });
  let failure: unknown;
  try {
    await oauth.restore(did, true);
  } catch (error) {
    failure = error;
  }
  // The library stores the new pair before anything else can fail: take it whenever it is there.
  const after = sessions.get(did);
  if (after && after.tokenSet.refresh_token !== before.tokenSet.refresh_token) return tokensFromSession(after);
  throw refreshFailure(failure);
}

function refreshFailure(error: unknown): TokenRefreshError {
  const name = error instanceof Error ? error.constructor.name : '';
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const status = (cause as { status?: unknown } | undefined)?.status;
  const oauthError = (cause as { error?: unknown } | undefined)?.error;
  if (oauthError === 'invalid_grant' || name === 'TokenRefreshError' || name === 'TokenRevokedError' || name === 'TokenInvalidError')
    return new TokenRefreshError(`Bluesky refused to refresh access (${describe(error)}); the account must be connected again.`, true);
  if (name === 'AuthMethodUnsatisfiableError')
    return new TokenRefreshError(
      "Bluesky's session was signed with a client key IQSP no longer has (was VAULT_KEY changed?); the account must be connected again.",
      true,
    );
  if (status === 429) {
    const headers = (cause as { response?: { headers?: Headers } }).response?.headers;
    return new TokenRefreshError(
      "Bluesky's rate limit stopped the token refresh; it will be tried again.",
      false,
      headers ? rateLimitWaitMs(headers) : undefined,
    );
  }
  if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client')
    return new TokenRefreshError(
      `Bluesky did not accept IQSP's client authentication (${String(oauthError)}); check PUBLIC_URL and VAULT_KEY.`,
      false,
    );
  return new TokenRefreshError(`Bluesky could not refresh access now (${describe(error)}).`, false);
}

/** Revokes the session at the authorization server (the library's revoke; it also forgets the session). */
export async function revokeSession(client: BlueskyClient, _account: AccountRef, tokens: TokenSet): Promise<void> {
  const session = sessionFromTokens(tokens, true);
  const sessions = new MemoryStore<NodeSavedSession>();
  sessions.set(session.tokenSet.sub, session);
  const oauth = await client.build({ session: sessions });
  await oauth.revoke(session.tokenSet.sub);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const causes: string[] = [];
  for (let e: unknown = error; e instanceof Error && causes.length < 4; e = e.cause) causes.push(e.message);
  const text = causes.join(': ').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
