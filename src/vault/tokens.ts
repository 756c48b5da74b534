/**
 * The token types the vault owns: what a connected account's tokens are, and how a platform
 * renews them. Publishers produce and consume these; the token store seals, refreshes and
 * rotates them without knowing anything else about a publisher.
 */

/** The tokens of one connected account. Every field is a secret except the dates and scopes. */
export interface TokenSet {
  accessToken: string;
  /** Absent where the platform has none (Facebook Page tokens). */
  refreshToken?: string | undefined;
  /** When the access token stops working; absent when it does not expire. */
  expiresAt?: Date | undefined;
  refreshExpiresAt?: Date | undefined;
  /** Space-separated scopes as granted. */
  scopes?: string | undefined;
  /**
   * Further named secrets the platform needs later (e.g. Meta's long-lived user token, used
   * to revoke). Stored sealed like the others, one row per name.
   */
  extra?: Readonly<Record<string, string>> | undefined;
}

/** A refresh that did not work. `permanent` means only reconnecting will help. */
export class TokenRefreshError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TokenRefreshError';
  }
}

/**
 * How one platform renews its tokens: all the token store needs of it. A publisher fits as it is
 * (the composition root hands the store a lookup by platform).
 */
export interface TokenRefresher {
  /** For the reason stored when the account must be connected again ("X access has expired…"). */
  readonly displayName: string;
  /** Whether stored tokens can be refreshed without the user at all. */
  readonly canRefresh: boolean;
  /** Exchanges the refresh token for a new set. Throws `TokenRefreshError`. */
  refresh(tokens: TokenSet): Promise<TokenSet>;
}
