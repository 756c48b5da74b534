/**
 * Connecting a social account: a private single-use link from chat → a single-use OAuth state
 * (with a PKCE verifier where the platform uses it) → the platform's consent page → the
 * callback, which stores the granted accounts with sealed tokens and tells the user in chat.
 *
 * Link tokens and states are stored only as SHA-256 hashes; the PKCE verifier is sealed.
 *
 * The round trip is bound to the browser that opened the link: opening it gives that browser a
 * random nonce (a cookie, set by the HTTP layer) whose hash is stored with the state, and a
 * callback that does not carry it is refused with nothing stored. Without this, someone could
 * open their own link, send the consent URL to another person, and have that person's accounts
 * land in the sender's workspace. The success page and the chat confirmation name the workspace
 * the accounts were connected to, so a person can tell where they went.
 */
import { targetsWaitingFor } from '../db/repositories/accounts.js';
import { moveQueuedJobs } from '../db/repositories/schedule.js';
import { publishJobKey } from './posts/context.js';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ChatPort, Invocation, Reply } from './ports/chat.js';
import { privateReply } from './ports/chat.js';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { Platform } from './ports/platforms.js';
import type { ChatKind } from './ports/chat.js';
import type { Page } from './ports/pages.js';
import type { Logger } from '../observability/logger.js';
import type { GrantedAccount, Publisher } from '../publishers/publisher.js';
import { ConnectError } from '../publishers/publisher.js';
import { codeVerifierSealedFor } from '../vault/secret-store.js';
import type { TokenStore } from '../vault/token-store.js';
import type { Vault } from '../vault/vault.js';
import { accountLabel } from './labels.js';
import { appendAudit } from './audit.js';
import { ensureMember } from './directory.js';

export const CONNECT_LINK_TTL_MS = 15 * 60_000;
/** Time allowed on the consent page once the link was opened. */
export const OAUTH_STATE_TTL_MS = 15 * 60_000;

export interface ConnectDependencies {
  db: Db;
  vault: Vault;
  tokens: TokenStore;
  publishers: ReadonlyMap<Platform, Publisher>;
  /** Every platform this code base knows (the registry's ids), configured here or not: a callback for another is refused as unknown. */
  platforms: readonly string[];
  chat: (kind: ChatKind) => ChatPort | undefined;
  publicUrl: string;
  logger: Logger;
  now?: () => Date;
}

/** `browserNonce`: the value of the cookie that binds the round trip to the browser that opened the link. */
export type LinkOutcome = { kind: 'redirect'; url: string; browserNonce: string } | { kind: 'page'; page: Page };

/** What a browser nonce looks like (32 random bytes, base64url); anything else is not one of ours. */
const BROWSER_NONCE = /^[A-Za-z0-9_-]{43}$/;

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export class ConnectService {
  private readonly now: () => Date;

  constructor(private readonly deps: ConnectDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Whether the browser cookie must be Secure and `__Host-` prefixed: with an https PUBLIC_URL. */
  get httpsOnly(): boolean {
    return this.deps.publicUrl.startsWith('https://');
  }

  redirectUri(platform: Platform): string {
    return `${this.deps.publicUrl}/oauth/${platform}/callback`;
  }

  /** A public JSON document a configured platform serves (`Publisher.documents`), by file name; undefined when there is none. */
  document(platformParam: string, name: string): unknown {
    if (!this.deps.platforms.includes(platformParam) || !name.endsWith('.json')) return undefined;
    const documents = this.deps.publishers.get(platformParam as Platform)?.documents?.();
    return documents && Object.hasOwn(documents, name) ? documents[name] : undefined;
  }

  /** `connect <platform>`: a private, single-use link valid 15 minutes, bound to this user. */
  async requestLink(invocation: Invocation, platform: Platform): Promise<Reply> {
    const publisher = this.deps.publishers.get(platform);
    if (!publisher) {
      const enabled = [...this.deps.publishers.values()].map((p) => p.displayName);
      return privateReply(
        `${platform} is not configured on this IQSP install, so it cannot be connected. ` +
          (enabled.length > 0 ? `Enabled here: ${enabled.join(', ')}.` : 'No platform is enabled yet; ask the person who runs IQSP.'),
      );
    }
    const { workspaceId, userId } = await ensureMember(this.deps.db, invocation);
    const url = await this.linkFor(workspaceId, userId, platform);
    const variants = publisher.connectVariants ?? [];
    if (variants.length > 1) {
      // One link, a way of connecting per button: whichever is opened first uses it up.
      const ways = variants.map((v) => ({ ...v, url: `${url}?via=${encodeURIComponent(v.id)}` }));
      return privateReply(
        [
          `Connect ${publisher.displayName}, one of two ways:`,
          ...ways.map((w) => `• ${w.label}: ${w.description} ${w.url}`),
          'This link is only for you, works once, and expires in 15 minutes.',
        ].join('\n'),
        {
          buttons: ways.map((w, i) => ({
            actionId: `open_connect_link_${i + 1}`,
            label: w.label,
            value: w.url,
            style: 'primary' as const,
          })),
        },
      );
    }
    return privateReply(`Connect ${publisher.displayName}: ${url}\nThis link is only for you, works once, and expires in 15 minutes.`, {
      buttons: [{ actionId: 'open_connect_link', label: `Connect ${publisher.displayName}`, value: url, style: 'primary' }],
    });
  }

  /** A fresh connect link for this person and platform: single-use, valid 15 minutes (also the health check's reminder). */
  async linkFor(workspaceId: string, userId: string, platform: Platform): Promise<string> {
    const token = randomToken();
    const now = this.now();
    await this.deps.db
      .insertInto('connect_links')
      .values({
        id: randomUUID(),
        token_hash: hashToken(token),
        workspace_id: workspaceId,
        chat_user_id: userId,
        platform,
        created_at: isoNow(now),
        expires_at: isoNow(new Date(now.getTime() + CONNECT_LINK_TTL_MS)),
        used_at: null,
      })
      .execute();
    return `${this.deps.publicUrl}/connect/${token}`;
  }

  /**
   * `GET /connect/:token`: consumes the link, creates the OAuth state bound to this browser,
   * redirects to consent. `browserNonce` is the browser's cookie, if it has one from an earlier
   * link (kept, so several sign-ins can be under way in one browser); otherwise a new one is made.
   * `via` is the way of connecting the person picked, where the platform offers several
   * (`Publisher.connectVariants`; the first when absent).
   */
  async openLink(token: string, browserNonce?: string, via?: string): Promise<LinkOutcome> {
    const nowIso = isoNow(this.now());
    const link = await this.deps.db.selectFrom('connect_links').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    if (!link) return errorPage('This connect link is not valid', 'Run `connect <platform>` in chat to get a new link.');
    if (link.used_at)
      return errorPage('This connect link was already used', 'Each link works once. Run `connect <platform>` in chat to get a new one.');
    if (link.expires_at <= nowIso)
      return errorPage(
        'This connect link has expired',
        'Links are valid for 15 minutes. Run `connect <platform>` in chat to get a new one.',
      );
    const publisher = this.deps.publishers.get(link.platform);
    if (!publisher) return errorPage(`${link.platform} is no longer configured`, 'Ask the person who runs IQSP to configure it.');

    const variants = publisher.connectVariants ?? [];
    const variant = variants.length === 0 ? undefined : (variants.find((v) => v.id === via) ?? variants[0]!).id;

    const consumed = await this.deps.db
      .updateTable('connect_links')
      .set({ used_at: nowIso })
      .where('id', '=', link.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(consumed.numUpdatedRows) !== 1)
      return errorPage('This connect link was already used', 'Each link works once. Run `connect <platform>` in chat to get a new one.');

    // The way of connecting travels in the state itself (`<variant>.<random>`): the platform sends it back as it is.
    const ours = variant ? `${variant}.${randomToken()}` : randomToken();
    const nonce = browserNonce && BROWSER_NONCE.test(browserNonce) ? browserNonce : randomToken();
    const consent = { state: ours, redirectUri: this.redirectUri(link.platform), variant };
    let url: string;
    let state = ours;
    let keep: string | undefined;
    if (publisher.startConsent) {
      let started;
      try {
        started = await publisher.startConsent(consent);
      } catch (error) {
        if (error instanceof ConnectError) return errorPage(`${publisher.displayName} could not be connected`, error.message);
        this.deps.logger.error({ err: error, platform: link.platform }, 'starting the sign-in failed');
        return {
          kind: 'page',
          page: {
            status: 502,
            title: `${publisher.displayName} could not be reached`,
            paragraphs: ['Nothing was connected, and this link is used up. Try again in a minute with `connect` in chat.'],
          },
        };
      }
      url = started.url;
      state = started.state ?? ours;
      keep = started.secret;
    } else {
      keep = publisher.usesPkce ? randomBytes(48).toString('base64url') : undefined;
      url = publisher.consentUrl({ ...consent, codeChallenge: keep ? pkceChallenge(keep) : undefined });
    }
    await this.deps.db
      .insertInto('oauth_states')
      .values({
        id: randomUUID(),
        state_hash: hashToken(state),
        connect_link_id: link.id,
        workspace_id: link.workspace_id,
        chat_user_id: link.chat_user_id,
        platform: link.platform,
        // The PKCE verifier, or what `startConsent` asked to keep: sealed, bound to this state.
        code_verifier_sealed: keep ? this.deps.vault.seal(keep, codeVerifierSealedFor(hashToken(state))) : null,
        browser_hash: hashToken(nonce),
        created_at: nowIso,
        expires_at: isoNow(new Date(this.now().getTime() + OAUTH_STATE_TTL_MS)),
        used_at: null,
      })
      .execute();
    return { kind: 'redirect', browserNonce: nonce, url };
  }

  /**
   * `GET /oauth/:platform/callback`: finishes the round trip. Nothing is stored unless it all
   * works, and nothing at all when `browserNonce` (the browser's cookie) is not the one of the
   * browser that opened the link.
   */
  async finishCallback(platformParam: string, query: Readonly<Record<string, string>>, browserNonce?: string): Promise<Page> {
    if (!this.deps.platforms.includes(platformParam))
      return errorPage('Unknown platform', `"${platformParam}" is not a platform IQSP connects.`).page;
    const platform = platformParam as Platform;
    const publisher = this.deps.publishers.get(platform);
    if (!publisher) return errorPage(`${platform} is not configured`, 'Ask the person who runs IQSP to configure it.').page;
    const stateParam = query.state;
    if (!stateParam)
      return errorPage(
        'This sign-in cannot be finished',
        'The answer from the platform has no state. Start again from chat with `connect`.',
      ).page;

    const nowIso = isoNow(this.now());
    const state = await this.deps.db
      .selectFrom('oauth_states')
      .selectAll()
      .where('state_hash', '=', hashToken(stateParam))
      .executeTakeFirst();
    if (!state || state.platform !== platform)
      return errorPage('This sign-in is not valid', 'IQSP did not start this sign-in. Start again from chat with `connect`.').page;
    // Before anything else about the state: another browser learns nothing and spends nothing.
    if (!browserNonce || !state.browser_hash || !sameHash(state.browser_hash, hashToken(browserNonce)))
      return errorPage(
        'This sign-in was started in another browser',
        'Nothing was connected. A connect link works only in the browser that opened it: run `connect` in chat yourself and open your own link. If someone sent you this page, do not continue.',
      ).page;
    if (state.used_at)
      return errorPage('This sign-in was already used', 'Each sign-in works once. Start again from chat with `connect`.').page;
    if (state.expires_at <= nowIso)
      return errorPage('This sign-in has expired', 'Sign-ins must be finished within 15 minutes. Start again from chat with `connect`.')
        .page;
    const consumed = await this.deps.db
      .updateTable('oauth_states')
      .set({ used_at: nowIso, code_verifier_sealed: null })
      .where('id', '=', state.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(consumed.numUpdatedRows) !== 1)
      return errorPage('This sign-in was already used', 'Each sign-in works once. Start again from chat with `connect`.').page;

    if (query.error) {
      const denied = query.error === 'access_denied' || query.error_reason === 'user_denied';
      return errorPage(
        denied ? `You did not allow IQSP to use ${publisher.displayName}` : `${publisher.displayName} refused the sign-in`,
        denied
          ? 'Nothing was connected. To connect, run `connect` again in chat and allow access.'
          : `Nothing was connected. ${publisher.displayName} said: ${query.error_description ?? query.error}.`,
      ).page;
    }
    if (!query.code)
      return errorPage('This sign-in cannot be finished', `${publisher.displayName} sent no authorization code. Start again from chat.`)
        .page;

    const kept = state.code_verifier_sealed
      ? this.deps.vault.open(state.code_verifier_sealed, codeVerifierSealedFor(state.state_hash))
      : undefined;
    const variants = publisher.connectVariants ?? [];
    const variant = variants.find((v) => stateParam.startsWith(`${v.id}.`))?.id;
    let granted: GrantedAccount[];
    try {
      granted = await publisher.finishConnect({
        code: query.code,
        redirectUri: this.redirectUri(platform),
        ...(publisher.startConsent ? { roundTripSecret: kept } : { codeVerifier: kept }),
        query,
        variant,
      });
    } catch (error) {
      if (error instanceof ConnectError) return errorPage(`${publisher.displayName} could not be connected`, error.message).page;
      this.deps.logger.error({ err: error, platform }, 'OAuth callback failed');
      return {
        status: 502,
        title: `${publisher.displayName} could not be reached`,
        paragraphs: ['Nothing was connected. Try again in a minute with `connect` in chat.'],
      };
    }
    if (granted.length === 0)
      return errorPage(
        `No ${publisher.displayName} account was granted`,
        'Nothing was connected. Run `connect` again and select at least one account.',
      ).page;

    const labels = await this.storeAccounts(state.workspace_id, state.chat_user_id, publisher, granted);
    const workspace = await this.workspaceName(state.workspace_id);
    await this.tellUser(state.workspace_id, state.chat_user_id, `connected: ${labels.join(', ')} (workspace ${workspace})`);
    return {
      status: 200,
      title: `Connected ${labels.join(', ')} to workspace ${workspace}`,
      paragraphs: [
        `People in the workspace ${workspace} can now ask IQSP to publish there; a post goes out once their approvers approve it.`,
        'You can close this tab and go back to chat.',
      ],
    };
  }

  /** The workspace as its people know it: its name, or its id where the chat did not tell it. */
  private async workspaceName(workspaceId: string): Promise<string> {
    const row = await this.deps.db
      .selectFrom('workspaces')
      .select(['name', 'external_id'])
      .where('id', '=', workspaceId)
      .executeTakeFirst();
    return row?.name ?? row?.external_id ?? workspaceId;
  }

  private async storeAccounts(workspaceId: string, userId: string, publisher: Publisher, granted: GrantedAccount[]): Promise<string[]> {
    const nowIso = isoNow(this.now());
    return this.deps.db.transaction().execute(async (trx) => {
      const labels: string[] = [];
      for (const account of granted) {
        const existing = await trx
          .selectFrom('social_accounts')
          .select('id')
          .where('workspace_id', '=', workspaceId)
          .where('platform', '=', publisher.platform)
          .where('platform_account_id', '=', account.platformAccountId)
          .executeTakeFirst();
        const profile = {
          platform_user_id: account.platformUserId ?? null,
          handle: account.handle ?? null,
          display_name: account.displayName,
          avatar_url: account.avatarUrl ?? null,
          connected_by_id: userId,
          status: 'active' as const,
          status_reason: null,
          // Connected again: no reminder until it is in trouble again.
          health_warned_at: null,
          authorization_lapses_at: null,
          updated_at: nowIso,
        };
        const accountId = existing?.id ?? randomUUID();
        if (existing) await trx.updateTable('social_accounts').set(profile).where('id', '=', accountId).execute();
        else
          await trx
            .insertInto('social_accounts')
            .values({
              id: accountId,
              workspace_id: workspaceId,
              platform: publisher.platform,
              platform_account_id: account.platformAccountId,
              scopes: null,
              connected_at: nowIso,
              ...profile,
            })
            .execute();
        await this.deps.tokens.replace(accountId, account.tokens, trx);
        // Connected again: the posts waiting for it go now (their publish jobs are due).
        if (existing) await moveQueuedJobs(trx, (await targetsWaitingFor(trx, accountId)).map(publishJobKey), nowIso, nowIso);
        await appendAudit(trx, {
          action: 'account.connected',
          workspaceId,
          actorId: userId,
          subjectType: 'account',
          subjectId: accountId,
          detail: { platform: publisher.platform, reconnect: existing !== undefined },
        });
        labels.push(accountLabel(publisher.displayName, account));
      }
      return labels;
    });
  }

  /** Tells a person privately in their chat (the connect outcome, the health check's reminder); false when it could not be said. */
  async tellUser(workspaceId: string, userId: string, text: string): Promise<boolean> {
    const row = await this.deps.db
      .selectFrom('chat_users')
      .innerJoin('workspaces', 'workspaces.id', 'chat_users.workspace_id')
      .select(['workspaces.chat', 'workspaces.external_id as workspaceExternalId', 'chat_users.external_id as userExternalId'])
      .where('chat_users.id', '=', userId)
      .where('workspaces.id', '=', workspaceId)
      .executeTakeFirst();
    const port = row && this.deps.chat(row.chat);
    if (!row || !port) return false;
    try {
      await port.sendPrivate(
        { chat: row.chat, workspaceExternalId: row.workspaceExternalId, userExternalId: row.userExternalId },
        { text },
      );
      return true;
    } catch (error) {
      // What was done stands either way (the connect page says so too).
      this.deps.logger.warn({ err: error }, 'could not tell a person privately in chat');
      return false;
    }
  }
}

function errorPage(title: string, message: string): { kind: 'page'; page: Page } {
  return { kind: 'page', page: { status: 400, title, paragraphs: [message] } };
}
