/**
 * The Discord bot as a background service of `serve`: logs in on start (and waits until the
 * servers are loaded), routes gateway events to the handlers, destroys the client on stop.
 * discord.js reconnects and resumes by itself; a login that fails for a reason other than
 * the token is retried with backoff so a Discord outage at boot does not stop the service.
 */
import type { Client } from 'discord.js';
import { DiscordjsError, DiscordjsErrorCodes, Events, GatewayCloseCodes } from 'discord.js';
import type { BackgroundService } from '../../app.js';
import type { DiscordDeps } from './context.js';
import { loggableError } from './errors.js';
import { handleInteraction } from './interactions.js';
import { handleMessage } from './messages.js';
import { handleReaction } from './reactions.js';

const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;
const STOP_GRACE_MS = 10_000;
/** Refusals no retry can fix: the operator must change the token or the portal settings. */
const FATAL_LOGIN_ERRORS: readonly string[] = [DiscordjsErrorCodes.TokenInvalid, DiscordjsErrorCodes.DisallowedIntents, DiscordjsErrorCodes.InvalidIntents];
/** Gateway close codes that end a login for good (the library does not reconnect after them). */
const FATAL_CLOSE_CODES: readonly number[] = [
  GatewayCloseCodes.AuthenticationFailed,
  GatewayCloseCodes.InvalidShard,
  GatewayCloseCodes.ShardingRequired,
  GatewayCloseCodes.InvalidAPIVersion,
  GatewayCloseCodes.InvalidIntents,
  GatewayCloseCodes.DisallowedIntents,
];

export class DiscordGateway implements BackgroundService {
  readonly name = 'discord';
  private readonly inFlight = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private lastCloseCode: number | undefined;

  constructor(
    private readonly deps: DiscordDeps,
    private readonly token: string,
  ) {
    this.wire(deps.client);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.login();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.deps.client.destroy();
    const draining = Promise.allSettled([...this.inFlight]);
    await Promise.race([draining, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
  }

  private async login(): Promise<void> {
    const { client, logger } = this.deps;
    let onReady = () => {};
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    client.once(Events.ClientReady, onReady);
    this.lastCloseCode = undefined;
    try {
      await client.login(this.token);
    } catch (error) {
      client.off(Events.ClientReady, onReady);
      const fatal =
        (error instanceof DiscordjsError && FATAL_LOGIN_ERRORS.includes(String(error.code))) ||
        (this.lastCloseCode !== undefined && FATAL_CLOSE_CODES.includes(this.lastCloseCode));
      if (fatal)
        throw new Error(
          `Discord refused the bot's login (${error instanceof Error ? error.message : String(error)}); check DISCORD_TOKEN, and that Message Content Intent is on under Bot → Privileged Gateway Intents in the Developer Portal`,
        );
      this.failures += 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1));
      logger.error({ err: loggableError(error), retryInMs: delay }, 'could not connect to Discord; retrying');
      if (!this.stopped) this.retryTimer = setTimeout(() => void this.login().catch((e) => logger.error({ err: loggableError(e) }, 'Discord login failed')), delay);
      return;
    }
    await ready;
    this.failures = 0;
    logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'Discord bot connected');
  }

  /** Runs a handler without letting it throw into discord.js, and remembers it until it ends (stop waits for it). */
  private track(what: string, work: () => Promise<void>): void {
    const run = work()
      .catch((error: unknown) => this.deps.logger.error({ err: loggableError(error), event: what }, 'a Discord event handler failed'))
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private wire(client: Client): void {
    const deps = this.deps;
    client.on(Events.InteractionCreate, (interaction) => this.track('interaction', () => handleInteraction(deps, interaction)));
    client.on(Events.MessageCreate, (message) => this.track('message', () => handleMessage(deps, message)));
    client.on(Events.MessageReactionAdd, (reaction, user) => this.track('reaction', () => handleReaction(deps, reaction, user, 'add')));
    client.on(Events.MessageReactionRemove, (reaction, user) => this.track('reaction', () => handleReaction(deps, reaction, user, 'remove')));
    // Without an 'error' listener an emitted error would crash the process.
    client.on(Events.Error, (error) => deps.logger.error({ err: loggableError(error) }, 'Discord client error'));
    client.on(Events.Warn, (message) => deps.logger.warn({ discord: message }, 'Discord client warning'));
    client.on(Events.ShardDisconnect, (event, shard) => {
      this.lastCloseCode = event.code;
      deps.logger.warn({ code: event.code, shard }, 'Discord gateway disconnected');
    });
    client.on(Events.ShardReconnecting, (shard) => deps.logger.info({ shard }, 'Discord gateway reconnecting'));
  }
}
