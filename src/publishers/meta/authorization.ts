/**
 * The connection health check for Meta accounts (issue 17). Two reads:
 *
 * 1. `GET /debug_token?input_token=<token>` with the app's own token (`<app-id>|<app-secret>`):
 *    whether the token is valid, and when access lapses. A Page token derived from a long-lived
 *    user token never expires (`expires_at: 0`), but the app's access to the person's data does
 *    (`data_access_expires_at`, 90 days after they last used the app): that is when the account
 *    needs a new login, so it is what the check reports.
 * 2. The account itself with its token (`GET /{page-id}?fields=id`, `GET /{ig-user-id}?fields=id`):
 *    the token still reaches this account (a Page role lost shows here).
 *
 * Refusals are mapped by the platform's own table, as a publish maps them (190: reconnect).
 */
import { NetworkError } from '../http.js';
import type { AuthorizationCheck, Failure, TokenSet } from '../publisher.js';
import { authorizationFromFailure } from '../publisher.js';
import type { PublishStage } from './errors.js';
import { GraphResponseError, type GraphClient } from './graph-client.js';
import { asObject } from './graph-json.js';

export interface GraphAuthorizationCheck {
  graph: GraphClient;
  appId: string;
  appSecret: string;
  map: (status: number, headers: Headers, body: unknown, stage: PublishStage) => Failure;
  /** 'Facebook' or 'Instagram', as people see it. */
  platform: string;
}

export async function checkGraphAuthorization(
  check: GraphAuthorizationCheck,
  accountId: string,
  tokens: TokenSet,
  signal?: AbortSignal,
): Promise<AuthorizationCheck> {
  try {
    const debug = asObject(
      (
        await check.graph.get('debug_token', {
          params: { input_token: tokens.accessToken, access_token: `${check.appId}|${check.appSecret}` },
          signal,
        })
      ).data,
    );
    if (debug?.is_valid !== true) {
      const said = asObject(debug?.error)?.message;
      return {
        kind: 'refused',
        reason: `${check.platform} says its access is no longer valid${typeof said === 'string' ? ` (${said})` : ''}`,
      };
    }
    await check.graph.get(encodeURIComponent(accountId), { token: tokens.accessToken, params: { fields: 'id' }, signal });
    const ends = [debug.expires_at, debug.data_access_expires_at]
      .filter((at): at is number => typeof at === 'number' && at > 0)
      .map((at) => at * 1000);
    return { kind: 'ok', ...(ends.length > 0 ? { lapsesAt: new Date(Math.min(...ends)) } : {}) };
  } catch (error) {
    if (error instanceof GraphResponseError) return authorizationFromFailure(check.map(error.status, error.headers, error.body, 'prepare'));
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `${check.platform} could not be reached (${error.message})` };
    throw error;
  }
}
