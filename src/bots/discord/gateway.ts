/**
 * The Discord bot as a background service of `serve`: logs in on start (and waits until the
 * servers are loaded), routes gateway events to the handlers, destroys the client on stop.
 * discord.js reconnects and resumes by itself; a login that fails for a reason other than
 * the token is retried with backoff so a Discord outage at boot does not stop the service.
 *
 * One gateway connection per bot, however many instances run the gateway role: each event
 * would otherwise be handled once per connection. The connection is guarded by a lease
 * (`discord-gateway:<application id>`) renewed while connected; an instance that finds it held
 * stands by and checks again, so it takes over within the lease's time when the holder dies.
 * A holder that lost the lease (it could not renew it for a whole lease, and another instance
 * took over) disconnects and stands by in turn: when the lease is free again it connects with a
 * new client (discord.js cannot log a destroyed client in again).
 */
import type { Client } from 'discord.js';
import { DiscordjsError, DiscordjsErrorCodes, Events, GatewayCloseCodes } from 'discord.js';
import type { BackgroundService } from '../../runtime.js';
import type { Leases } from '../../db/leases.js';
import type { DiscordDeps } from './context.js';
import { loggableError } from './errors.js';
import { handleInteraction } from './interactions.js';
import { handleMessage } from './messages.js';
import { guildRemoval, handleGuildRemoved } from './guilds.js';
import { handleReaction } from './reactions.js';

const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;
const STOP_GRACE_MS = 10_000;
/**
 * How long `stop` lets a login in progress finish before destroying the client. Destroying a
 * discord.js client while its shard waits for HELLO or READY can hang for good: the destroy
 * aborts that wait, whose handler starts a second destroy (with a reconnect) that drops the
 * first one's wait for the close. Once connected, the destroy is clean.
 */
const CONNECT_SETTLE_MS = 20_000;
/** The longest `stop` waits for the client's close handshake (a peer that never answers). */
const DESTROY_GRACE_MS = 5_000;
/** Refusals no retry can fix: the operator must change the token or the portal settings. */
const FATAL_LOGIN_ERRORS: readonly string[] = [
  DiscordjsErrorCodes.TokenInvalid,
  DiscordjsErrorCodes.DisallowedIntents,
  DiscordjsErrorCodes.InvalidIntents,
];
/** Gateway close codes that end a login for good (the library does not reconnect after them). */
const FATAL_CLOSE_CODES: readonly number[] = [
  GatewayCloseCodes.AuthenticationFailed,
  GatewayCloseCodes.InvalidShard,
  GatewayCloseCodes.ShardingRequired,
  GatewayCloseCodes.InvalidAPIVersion,
  GatewayCloseCodes.InvalidIntents,
  GatewayCloseCodes.DisallowedIntents,
];

export interface GatewayLeaseOptions {
  /** How long the lease lasts unless renewed: the longest a dead holder blocks a standby (default 20 s). */
  leaseMs?: number;
  /** How often the holder renews it (default a quarter of `leaseMs`). */
  renewMs?: number;
  /** How often a standby instance tries to take it (default 2 s). */
  standbyPollMs?: number;
}

export class DiscordGateway implements BackgroundService {
  readonly name = 'discord';
  readonly role = 'gateway';
  private readonly inFlight = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private lastCloseCode: number | undefined;
  private readonly leaseName: string;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly standbyPollMs: number;
  /** Whether this process holds the lease (and so may be connected). */
  private holding = false;

  /** Whether the current client has been logged in (and so, once destroyed, cannot be again). */
  private clientUsed = false;
  /** Settles when the login in progress, if any, has connected or failed. */
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly deps: DiscordDeps,
    private readonly token: string,
    private readonly lease: { leases: Leases; applicationId: string; owner: string } & GatewayLeaseOptions,
    /** A fresh client like the first, for connecting again after the lease was lost. */
    private readonly newClient: () => Client,
  ) {
    this.wire(deps.client);
    this.leaseName = `discord-gateway:${lease.applicationId}`;
    this.leaseMs = lease.leaseMs ?? 20_000;
    this.renewMs = lease.renewMs ?? Math.floor(this.leaseMs / 4);
    this.standbyPollMs = lease.standbyPollMs ?? 2_000;
  }

  /** Whether this process is connected to the gateway now (the client is ready). */
  get connected(): boolean {
    return this.deps.client.isReady();
  }

  /** Connects when this process gets the lease; otherwise stands by (and returns). */
  async start(): Promise<void> {
    this.stopped = false;
    if (await this.takeLease()) {
      await this.connect();
      return;
    }
    this.deps.logger.info({ lease: this.leaseName }, 'another instance holds the Discord gateway for this bot; standing by');
    this.standBy();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.leaseTimer);
    await this.disconnect();
    // REST stays usable: the publish workers, stopped after the surfaces, still reply in threads.
    this.deps.client.rest.setToken(this.token);
    const draining = Promise.allSettled([...this.inFlight]);
    await Promise.race([draining, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
    if (this.holding) {
      // Handed over at once: a standby instance connects on its next check.
      this.holding = false;
      await this.lease.leases
        .release(this.leaseName, this.lease.owner)
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not release the Discord gateway lease'));
    }
  }

  private async takeLease(): Promise<boolean> {
    this.holding = await this.lease.leases.tryAcquire(this.leaseName, this.lease.owner, this.leaseMs);
    return this.holding;
  }

  private standBy(): void {
    if (this.stopped) return;
    this.leaseTimer = setTimeout(() => {
      this.takeLease()
        .then(
          async (taken) => {
            if (!taken) return this.standBy();
            if (this.stopped) {
              // `stop` came while the lease was being taken: give it back rather than connect.
              this.holding = false;
              await this.lease.leases.release(this.leaseName, this.lease.owner);
              return;
            }
            this.deps.logger.info({ lease: this.leaseName }, 'took over the Discord gateway');
            await this.connect();
          },
          (error: unknown) => {
            this.deps.logger.warn({ err: error }, 'could not check the Discord gateway lease; trying again');
            this.standBy();
          },
        )
        .catch((error: unknown) => this.deps.logger.error({ err: loggableError(error) }, 'the Discord gateway did not start'));
    }, this.standbyPollMs);
    this.leaseTimer.unref();
  }

  private async connect(): Promise<void> {
    if (this.clientUsed) this.replaceClient();
    this.clientUsed = true;
    this.keepLease();
    try {
      await this.login();
    } catch (error) {
      // A refusal no retry can fix: give the lease back so it does not outlive this process.
      clearTimeout(this.leaseTimer);
      this.holding = false;
      await this.lease.leases.release(this.leaseName, this.lease.owner).catch(() => undefined);
      throw error;
    }
  }

  /** A new client for the handlers and the chat port, speaking REST at once. */
  private replaceClient(): void {
    const client = this.newClient();
    client.rest.setToken(this.token);
    this.wire(client);
    this.deps.client = client;
    this.deps.port.useClient(client);
  }

  /**
   * Renews the lease while connected. If it was lost (this process could not renew it for a
   * whole lease, and another instance took it over), the connection is closed, since two would
   * handle every event twice, and this process stands by to take the lease again.
   */
  private keepLease(): void {
    const renew = async () => {
      if (this.stopped || !this.holding) return;
      let kept: boolean;
      try {
        kept = (await this.lease.leases.renew(this.leaseName, this.lease.owner, this.leaseMs)) || (await this.takeLease());
      } catch (error) {
        // The database is out of reach: stay connected and try again. If it stays out of reach
        // past the lease and another instance connects meanwhile, the next renewal finds out.
        this.deps.logger.warn({ err: error }, 'could not renew the Discord gateway lease; trying again');
        kept = true;
      }
      if (this.stopped) return;
      if (!kept) {
        this.holding = false;
        this.deps.logger.error({ lease: this.leaseName }, 'another instance took over the Discord gateway; disconnecting and standing by');
        await this.disconnect();
        // REST stays usable for replies in chat.
        this.deps.client.rest.setToken(this.token);
        this.standBy();
        return;
      }
      this.leaseTimer = setTimeout(() => void renew(), this.renewMs);
      this.leaseTimer.unref();
    };
    this.leaseTimer = setTimeout(() => void renew(), this.renewMs);
    this.leaseTimer.unref();
  }

  /** Destroys the client once any login in progress has settled, bounded (see CONNECT_SETTLE_MS). */
  private async disconnect(): Promise<void> {
    const settled = await within(this.connecting ?? Promise.resolve(), CONNECT_SETTLE_MS);
    if (!settled) this.deps.logger.warn({ waitedMs: CONNECT_SETTLE_MS }, 'the Discord login did not finish; disconnecting anyway');
    const closed = await within(this.deps.client.destroy(), DESTROY_GRACE_MS);
    if (!closed)
      this.deps.logger.warn({ waitedMs: DESTROY_GRACE_MS }, 'Discord did not answer the close of the gateway connection; going on');
  }

  private async login(): Promise<void> {
    let settle = () => {};
    this.connecting = new Promise<void>((resolve) => (settle = resolve));
    try {
      await this.loginOnce();
    } finally {
      settle();
    }
  }

  private async loginOnce(): Promise<void> {
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
          { cause: error },
        );
      // A failed login destroys the client, REST token included; replies in chat still need it.
      client.rest.setToken(this.token);
      this.failures += 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1));
      logger.error({ err: loggableError(error), retryInMs: delay }, 'could not connect to Discord; retrying');
      if (!this.stopped)
        this.retryTimer = setTimeout(
          () => void this.login().catch((e) => logger.error({ err: loggableError(e) }, 'Discord login failed')),
          delay,
        );
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
    client.on(Events.MessageReactionRemove, (reaction, user) =>
      this.track('reaction', () => handleReaction(deps, reaction, user, 'remove')),
    );
    // Read raw: discord.js emits guildDelete only for a server it has cached.
    client.on(Events.Raw, (packet: { t?: unknown; d?: unknown }) => {
      const removed = guildRemoval(packet);
      if (removed) this.track('guild-delete', () => handleGuildRemoved(deps, removed));
    });
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

/** Whether `work` settled (either way) within `ms`; it goes on running if not. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
