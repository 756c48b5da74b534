/**
 * The Slack surface: a Bolt 5 App inside our Koa server (`POST /slack/events`), in one of
 * three modes taken from the configuration, which can be combined:
 * - single workspace: SLACK_BOT_TOKEN speaks for its own workspace;
 * - multi-workspace: SLACK_CLIENT_ID/SECRET, installed through `/slack/install` and
 *   `/slack/oauth_redirect` (@slack/oauth InstallProvider), installations sealed in our database;
 * - Socket Mode: SLACK_APP_TOKEN, for development without a public URL (events arrive over a
 *   WebSocket; the HTTP route stays).
 * SLACK_API_URL is the base of every Web API call: Bolt's clients, the chat port, the installer
 * and Socket Mode's `apps.connections.open`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Router from '@koa/router';
import { App } from './bolt.js';
import { InstallProvider, type CallbackOptions } from '@slack/oauth';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import { nodeFetch } from '../../http/node-fetch.js';
import type { NodeRoute } from '../../http/app.js';
import { renderPage } from '../../http/pages.js';
import type { Logger } from '../../observability/logger.js';
import type { Surface, SurfaceContext } from '../surface.js';
import { SlackAuthorizer } from './authorization.js';
import { signatureKey } from './deliveries.js';
import { HomeTab } from './home-tab.js';
import { DbInstallationStore } from './installation-store.js';
import { registerListeners } from './listeners.js';
import { slackLogger } from './logger.js';
import { SLACK_BOT_SCOPES } from './manifest.js';
import { SlackPeople } from './people.js';
import { SlackChatPort } from './port.js';
import { SlackReceiver } from './receiver.js';
import { slashCommandRunner } from './slash-command.js';

export { slackManifest } from './manifest.js';

export interface SlackSurfaceOptions {
  /** How long a modal submission may work before acknowledging without its verdict (Slack allows 3 s). */
  viewAckBudgetMs?: number;
  /** How long users.info answers (admin, bot, name) are kept. */
  peopleCacheMs?: number;
  /** How long shutdown waits for Slack work still running. */
  drainMs?: number;
  /** Web API retries on network errors, 5xx and rate limits. */
  retries?: number;
  /** How long the Home tab waits for a burst of post changes to end before showing them (default 1 s). */
  homeRefreshMs?: number;
}

/** The Slack surface, with a way to wait for work still running after Slack got its acks (tests, benchmarks). */
export interface SlackSurface extends Surface {
  settled(): Promise<void>;
}

export function isSlackSurface(surface: Surface): surface is SlackSurface {
  return surface.name === 'slack' && typeof (surface as Partial<SlackSurface>).settled === 'function';
}

/** Slack requests are small; larger bodies are refused before they are read. */
const BODY_LIMIT_BYTES = 1024 * 1024;

function sendPage(res: ServerResponse, status: number, title: string, paragraphs: string[]): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end(renderPage({ status, title, paragraphs }));
}

function installFailure(code: string): string {
  if (/state/i.test(code)) return 'This install link expired or was opened in another browser.';
  if (/authorization/i.test(code)) return 'The installation was cancelled in Slack.';
  return 'Slack did not confirm the installation.';
}

/**
 * `POST /slack/events` (a node route: served without Koa once loaded, see NodeRoute), and the
 * install pages in multi-workspace mode.
 */
function slackRoutes(
  receiver: SlackReceiver,
  installer: InstallProvider | undefined,
  log: Logger,
  publicUrl: string,
): { events: NodeRoute; routes: (router: Router) => void } {
  const callbackOptions: CallbackOptions = {
    success: (installation, _options, _req, res) =>
      sendPage(res, 200, 'IQSP is installed', [
        `IQSP was added to ${installation.team?.name ?? installation.enterprise?.name ?? 'your Slack workspace'}.`,
        'Invite it to a channel (/invite @IQSP) and type /iqsp help there.',
      ]),
    failure: (error, _options, _req, res) => {
      log.warn({ code: error.code }, 'a Slack installation did not finish');
      sendPage(res, 400, 'Slack installation did not finish', [installFailure(error.code), `Start again at ${publicUrl}/slack/install.`]);
    },
  };
  // Bolt and the installer write the Node response themselves.
  const guarded =
    (handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      try {
        await handle(req, res);
      } catch (error) {
        log.error({ err: error }, 'a Slack route failed');
        if (!res.headersSent)
          sendPage(res, 500, 'Something went wrong', ['IQSP could not handle this Slack request. Try again in a minute.']);
      }
    };
  const nodeRoute =
    (handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    async (ctx: { respond?: boolean; req: IncomingMessage; res: ServerResponse }) => {
      // Koa must leave the Node response alone.
      ctx.respond = false;
      await guarded(handle)(ctx.req, ctx.res);
    };
  return {
    events: { method: 'POST', path: '/slack/events', handle: guarded((req, res) => receiver.handle(req, res)) },
    routes: (router) => {
      if (!installer) return;
      router.get(
        '/slack/install',
        nodeRoute((req, res) => installer.handleInstallPath(req, res)),
      );
      router.get(
        '/slack/oauth_redirect',
        nodeRoute((req, res) => installer.handleCallback(req, res, callbackOptions)),
      );
    },
  };
}

/**
 * Web API clients that name a workspace (`team_id`) in every call, one per workspace, as Bolt
 * gives its listeners (calls with an org-wide Enterprise Grid token need the workspace named);
 * `shared` when there is none. At most `TEAM_CLIENTS_KEPT` are kept (a workspace's client is
 * made again after that: they hold no state but their options).
 */
function teamClients(shared: WebClient, options: WebClientOptions): (teamId: string | undefined) => WebClient {
  const clients = new Map<string, WebClient>();
  return (teamId) => {
    if (teamId === undefined) return shared;
    let client = clients.get(teamId);
    if (!client) {
      if (clients.size >= TEAM_CLIENTS_KEPT) clients.clear();
      client = new WebClient(undefined, { ...options, teamId });
      clients.set(teamId, client);
    }
    return client;
  };
}
const TEAM_CLIENTS_KEPT = 1_000;

export function slackSurfaceFactory(options: SlackSurfaceOptions = {}): (context: SurfaceContext) => SlackSurface | undefined {
  return ({ config, core, services, logger }): SlackSurface | undefined => {
    const slack = config.slack;
    if (!slack.enabled) return undefined;
    const log = logger.child({ surface: 'slack' });
    const boltLogger = slackLogger(log);
    const clientOptions: WebClientOptions = {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: options.retries ?? 2 },
      timeout: 30_000,
      // Web API calls over node:http rather than fetch (src/http/node-fetch.ts says why).
      fetch: nodeFetch,
    };
    const client = new WebClient(undefined, { ...clientOptions, logger: boltLogger });

    const installations = slack.clientId ? new DbInstallationStore(services.db, services.secrets) : undefined;
    const installer =
      slack.clientId && slack.clientSecret && installations
        ? new InstallProvider({
            clientId: slack.clientId,
            clientSecret: slack.clientSecret,
            stateSecret: services.vault.subkey('slack-oauth-state/v1').toString('base64url'),
            installationStore: installations,
            directInstall: true,
            installUrlOptions: { scopes: [...SLACK_BOT_SCOPES], redirectUri: `${config.publicUrl}/slack/oauth_redirect` },
            clientOptions,
            logger: slackLogger(log, 'slack-install'),
          })
        : undefined;
    const auth = new SlackAuthorizer(client, installer, slack.botToken);

    const receiver = new SlackReceiver({
      signingSecret: slack.signingSecret,
      logger: log,
      slackLogger: boltLogger,
      bodyLimitBytes: BODY_LIMIT_BYTES,
      socketMode: slack.appToken ? { appToken: slack.appToken, apiUrl: slack.apiUrl } : undefined,
      drainMs: options.drainMs ?? 10_000,
      claimSignature: (hash) => core.inbound.claimDelivery(signatureKey(hash)),
      signatureKnown: (hash) => core.inbound.deliveryKnown(signatureKey(hash)),
      tooLarge: () => services.metrics.httpRequestsRejected.inc({ reason: 'body_too_large' }),
    });
    // convoStore: no listener keeps conversation state, and Bolt's default store costs every request.
    const app = new App({ receiver, authorize: auth.authorize, clientOptions, logger: boltLogger, convoStore: false });
    const people = new SlackPeople(client, log, options.peopleCacheMs ?? 60_000);
    const home = new HomeTab({ client, auth, inbound: core.inbound, logger: log }, { debounceMs: options.homeRefreshMs ?? 1_000 });
    const listenerDeps = {
      app,
      core,
      people,
      home,
      installations,
      logger: log,
      viewAckBudgetMs: options.viewAckBudgetMs ?? 2_500,
    };
    registerListeners(listenerDeps);
    receiver.runCommandsWith(
      slashCommandRunner(listenerDeps, auth.authorize, teamClients(client, { ...clientOptions, logger: boltLogger })),
    );
    const { events, routes } = slackRoutes(receiver, installer, log, config.publicUrl);

    return {
      name: 'slack',
      port: new SlackChatPort(client, auth, people, home),
      routes,
      nodeRoutes: [events],
      // Events come in through HTTP (or Socket Mode, which Slack spreads over every connection): web work.
      background: [
        {
          name: 'slack',
          role: 'web',
          start: () => receiver.start(),
          stop: async () => {
            await receiver.stop();
            await home.stop();
          },
        },
      ],
      settled: async () => {
        await receiver.idle();
        await home.idle();
      },
    };
  };
}

export const createSlackSurface = slackSurfaceFactory();
