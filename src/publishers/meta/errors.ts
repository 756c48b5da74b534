/**
 * Meta's Graph error envelope mapped to the port's failure classes (platform-apis.md §1.7,
 * §2.6). Facebook and Instagram share the codes; each adds its own subcodes through a table,
 * so each platform still has ONE mapping function (its errors.ts) built on this one.
 */
import { redactText } from '../../observability/redact.js';
import type { NetworkError } from '../http.js';
import type { Failure, FailureClass } from '../publisher.js';
import { asObject, numberField, objectField, stringField } from './graph-json.js';
import { metaRetryAfterMs } from './usage-headers.js';

/**
 * Where in a publish a request was made: before anything can be live ('prepare'), the request
 * that makes the post live ('commit'), or checks after Meta accepted it ('confirm').
 */
export type PublishStage = 'prepare' | 'commit' | 'confirm';

export interface GraphErrorInfo {
  code?: number | undefined;
  subcode?: number | undefined;
  message?: string | undefined;
  userMessage?: string | undefined;
  isTransient: boolean;
}

/** `{"error":{"message","type","code","error_subcode","error_user_msg","is_transient",...}}` */
export function readGraphError(body: unknown): GraphErrorInfo | undefined {
  const error = objectField(asObject(body), 'error');
  if (!error) return undefined;
  return {
    code: numberField(error, 'code'),
    subcode: numberField(error, 'error_subcode'),
    message: stringField(error, 'message'),
    userMessage: stringField(error, 'error_user_msg'),
    isTransient: error.is_transient === true,
  };
}

/**
 * What one code or subcode means. 'transient' becomes 'retryable' before the commit and
 * 'unknown' on it: a server-side hiccup on the committing request may still have posted.
 */
export interface MetaErrorRule {
  class: FailureClass | 'transient';
  /** A full sentence; `detail` is Meta's own explanation, already cleaned. */
  message: (detail: string) => string;
  tokenExpired?: boolean;
}

export interface MetaErrorTable {
  /** 'Facebook' or 'Instagram', as people see it. */
  platform: string;
  /** Platform-specific subcodes, checked before everything else (they are the most precise). */
  subcodes: Readonly<Record<number, MetaErrorRule>>;
  /** Platform-specific codes, checked before the shared ones. */
  codes: Readonly<Record<number, MetaErrorRule>>;
}

const RATE_LIMIT_CODES = new Set([4, 17, 32, 613]);
/** Business Use Case throttling: 80001 Pages, 80002 Instagram, and their siblings. */
const BUC_RATE_LIMIT = { min: 80000, max: 80014 };
const PERMISSION_CODES = { min: 200, max: 299 };
const OAUTH_CODES = new Set([190, 102]);
const MAX_DETAIL = 300;

function rule(cls: MetaErrorRule['class'], message: (detail: string) => string, tokenExpired?: boolean): MetaErrorRule {
  return { class: cls, message, tokenExpired };
}

function temporary(p: string): MetaErrorRule {
  return rule('transient', (d) => `${p} had a temporary problem (${d}); nothing was posted and it will be tried again.`);
}

/** Token problems (190): the subcode says whether the token merely expired or was revoked. */
function oauthRule(p: string, subcode: number | undefined): MetaErrorRule {
  switch (subcode) {
    case 463:
      return rule('reconnect', () => `${p} access for this account has expired; connect it again.`, true);
    case 460:
      return rule(
        'reconnect',
        () => `${p} access ended because the password of the person who connected this account changed; connect it again.`,
        false,
      );
    case 458:
      return rule(
        'reconnect',
        () => `IQSP was removed from the ${p} account of the person who connected this account; connect it again.`,
        false,
      );
    case 459:
      return rule(
        'reconnect',
        () =>
          `${p} wants the person who connected this account to log in at facebook.com and clear a security checkpoint, then connect it again.`,
        false,
      );
    case 464:
      return rule(
        'reconnect',
        () => `${p} wants the person who connected this account to confirm their Facebook account, then connect it again.`,
        false,
      );
    case 467:
      return rule('reconnect', () => `${p} access for this account is no longer valid (logged out or revoked); connect it again.`, false);
    default:
      return rule('reconnect', () => `${p} access for this account was revoked or is no longer valid; connect it again.`, false);
  }
}

function sharedCodeRule(p: string, code: number): MetaErrorRule | undefined {
  if (RATE_LIMIT_CODES.has(code) || (code >= BUC_RATE_LIMIT.min && code <= BUC_RATE_LIMIT.max))
    return rule('retryable', () => `${p} rate-limited IQSP (code ${code}); the post will be tried again when the limit resets.`);
  if (code === 10 || (code >= PERMISSION_CODES.min && code <= PERMISSION_CODES.max))
    return rule(
      'reconnect',
      (d) => `IQSP lacks a ${p} permission it needs (${d}); connect the account again and allow every permission asked for.`,
      false,
    );
  switch (code) {
    case 1:
    case 2:
      return temporary(p);
    case 368:
      return rule(
        'content',
        (d) => `${p} blocked this post as abusive or against its policies (${d}); change the post before trying again.`,
      );
    case 506:
      return rule('content', () => `${p} refused this post as a duplicate of a recent one; change the caption or the media.`);
    case 100:
      return rule('content', (d) => `${p} refused part of this post (${d}); change the post before trying again.`);
    default:
      return undefined;
  }
}

/** Page-level subcodes that apply to Facebook and to Instagram accounts linked to a Page. */
const SHARED_SUBCODES: Readonly<Record<number, (p: string) => MetaErrorRule>> = {
  1404078: (p) =>
    rule(
      'reconnect',
      () =>
        `${p} requires Page Publishing Authorization for this Page; complete it in the Page settings on Facebook, then connect the account again.`,
      false,
    ),
  4854002: (p) =>
    rule(
      'reconnect',
      () => `${p} wants the person who connected this account to confirm their identity in the Facebook app, then connect it again.`,
      false,
    ),
  1363047: temporary,
  1609010: temporary,
};

/** Meta's own explanation of an error answer, cleaned for people (no tokens, bounded). */
export function errorDetail(body: unknown, status: number): string {
  return cleanDetail(readGraphError(body), status);
}

function cleanDetail(info: GraphErrorInfo | undefined, status: number): string {
  const raw = info?.userMessage ?? info?.message ?? `HTTP ${status}`;
  const text = redactText(raw)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.\s]+$/, '');
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

function platformCode(info: GraphErrorInfo | undefined, status: number): string {
  if (info?.code === undefined) return `meta:http_${status}`;
  return info.subcode === undefined ? `meta:${info.code}` : `meta:${info.code}/${info.subcode}`;
}

function findRule(table: MetaErrorTable, info: GraphErrorInfo | undefined, status: number): MetaErrorRule {
  const p = table.platform;
  const { code, subcode } = info ?? {};
  if (subcode !== undefined) {
    const specific = table.subcodes[subcode] ?? SHARED_SUBCODES[subcode]?.(p);
    if (specific) return specific;
  }
  if (code !== undefined) {
    if (OAUTH_CODES.has(code)) return oauthRule(p, subcode);
    const specific = table.codes[code] ?? sharedCodeRule(p, code);
    if (specific) return specific;
  }
  if (status === 429) return rule('retryable', () => `${p} rate-limited IQSP; the post will be tried again when the limit resets.`);
  if (info?.isTransient || status >= 500 || !info) return temporary(p);
  return rule('content', (d) => `${p} refused this post (${d}); change the post before trying again.`);
}

/** The whole mapping, given a platform's table. Stage decides what a transient failure means. */
export function mapMetaError(table: MetaErrorTable, status: number, headers: Headers, body: unknown, stage: PublishStage): Failure {
  const info = readGraphError(body);
  const found = findRule(table, info, status);
  const detail = cleanDetail(info, status);
  const code = platformCode(info, status);
  const p = table.platform;
  if (stage === 'confirm')
    return {
      class: 'unknown',
      message: `${p} accepted the post, but checking on it failed (${detail}); look at ${p} before posting again.`,
      platformCode: code,
    };
  if (found.class === 'transient' && stage === 'commit')
    return {
      class: 'unknown',
      message: `${p} had a problem while publishing (${detail}); the post may be live, so look at ${p} before posting again.`,
      platformCode: code,
    };
  const failure: Failure = {
    class: found.class === 'transient' ? 'retryable' : found.class,
    message: found.message(detail),
    platformCode: code,
  };
  if (failure.class === 'retryable') {
    const wait = metaRetryAfterMs(headers);
    if (wait !== undefined) failure.retryAfterMs = wait;
  }
  if (failure.class === 'reconnect') failure.tokenExpired = found.tokenExpired ?? false;
  return failure;
}

/** No answer at all. Before the commit nothing can be live; on it, the request may have arrived. */
export function networkFailure(platform: string, error: NetworkError, stage: PublishStage): Failure {
  const reason = error.message;
  if (stage === 'prepare' || (stage === 'commit' && !error.mayHaveReached))
    return {
      class: 'retryable',
      message: `IQSP could not reach ${platform} (${reason}); nothing was posted and it will be tried again.`,
      platformCode: 'network',
    };
  if (stage === 'commit')
    return {
      class: 'unknown',
      message: `${platform} may have published this post, but its answer never came (${reason}); look at ${platform} before posting again.`,
      platformCode: 'network',
    };
  return {
    class: 'unknown',
    message: `${platform} accepted the post, but checking on it failed (${reason}); look at ${platform} before posting again.`,
    platformCode: 'network',
  };
}
