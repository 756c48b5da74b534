/**
 * A Bluesky session as IQSP stores it: the library's session record (its token set, the private
 * DPoP key the tokens are bound to, and how the client authenticated) as the account's TokenSet.
 * The access and refresh tokens are the TokenSet's own fields; the rest, all of it secret or
 * needed with the tokens, is one sealed `extra` entry.
 */
import type { NodeSavedSession } from '@atproto/oauth-client-node';
import type { TokenSet } from '../publisher.js';

const SESSION = 'session';

type StoredTokenSet = NodeSavedSession['tokenSet'];

interface SessionRest {
  dpopJwk: NodeSavedSession['dpopJwk'];
  authMethod: NodeSavedSession['authMethod'];
  iss: string;
  sub: string;
  aud: string;
  tokenType: string;
}

export function tokensFromSession(session: NodeSavedSession): TokenSet {
  const { tokenSet } = session;
  const rest: SessionRest = {
    dpopJwk: session.dpopJwk,
    authMethod: session.authMethod,
    iss: tokenSet.iss,
    sub: tokenSet.sub,
    aud: tokenSet.aud,
    tokenType: tokenSet.token_type,
  };
  return {
    accessToken: tokenSet.access_token,
    refreshToken: tokenSet.refresh_token,
    expiresAt: tokenSet.expires_at ? new Date(tokenSet.expires_at) : undefined,
    scopes: tokenSet.scope,
    extra: { [SESSION]: JSON.stringify(rest) },
  };
}

/**
 * The library's session record from stored tokens. `withRefreshToken: false` leaves the refresh
 * token out, so the library cannot refresh (and spend the single-use token) on its own in the
 * middle of a publish, where the new pair would not be persisted: core refreshes, then retries.
 */
export function sessionFromTokens(tokens: TokenSet, withRefreshToken: boolean): NodeSavedSession {
  const raw = tokens.extra?.[SESSION];
  if (!raw) throw new Error('this Bluesky connection has no stored session; connect the account again');
  const rest = JSON.parse(raw) as SessionRest;
  const tokenSet = {
    iss: rest.iss,
    sub: rest.sub,
    aud: rest.aud,
    scope: tokens.scopes ?? 'atproto',
    token_type: rest.tokenType,
    access_token: tokens.accessToken,
    ...(withRefreshToken && tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
    ...(tokens.expiresAt ? { expires_at: tokens.expiresAt.toISOString() } : {}),
  } as StoredTokenSet;
  return { dpopJwk: rest.dpopJwk, authMethod: rest.authMethod, tokenSet };
}

/** The account's DID, from its stored session. */
export function sessionDid(tokens: TokenSet): string {
  return sessionFromTokens(tokens, false).tokenSet.sub;
}

/** The account's PDS (the tokens' audience). */
export function sessionPds(tokens: TokenSet): string {
  return sessionFromTokens(tokens, false).tokenSet.aud;
}
