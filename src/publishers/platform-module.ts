/**
 * What a platform folder says about itself (docs/adding-a-platform.md): its id and name, the
 * app an operator registers at the platform and the variables that configure it, how many of
 * its publishes may run at once, the options a post to it takes, how to build its publisher,
 * and how the sandbox starts its simulator. The registry lists these modules; config, the chat
 * grammar and forms, the Slack manifest, the CLI and the sandbox loop over them, so generic code
 * never names a platform.
 */
import type { TargetOption } from '../core/ports/platforms.js';
import type { Publisher } from './publisher.js';

export type { TargetOption };

/** A base URL variable of a platform app, with its default. */
export interface UrlVariable {
  readonly name: string;
  readonly fallback: string;
  /** Kept exactly as given (TikTok's documented consent URL ends with a slash); otherwise trailing slashes go. */
  readonly keepTrailingSlash?: boolean;
}

/** A plain setting of a platform app, with its default and the shape its value must have. */
export interface ValueVariable {
  readonly name: string;
  readonly fallback: string;
  readonly pattern: RegExp;
  /** What a valid value looks like, for the configuration error ("a version as YYYYMM, e.g. 202607"). */
  readonly expected: string;
}

/**
 * The app an operator registers at a platform. One app may serve several platforms (one Meta app
 * serves Facebook and Instagram): modules that share it hold the same object, and config parses
 * it once, under `key`.
 */
export interface PlatformApp<Settings = unknown, Variable extends string = string> {
  /** Its key in `Config.platformApps`. */
  readonly key: string;
  /**
   * The credential variables: the app is on when all are set, off when none is, and a
   * configuration error when only some are. Any of them set also means a real install (the
   * sandbox never starts then).
   */
  readonly credentials: readonly Variable[];
  /**
   * A variable that turns the app on by itself (`BLUESKY_ENABLED=true`), for a platform whose
   * clients register no credentials (AT Protocol's client id is a URL IQSP serves). With it,
   * `credentials` is empty.
   */
  readonly switch?: Variable | undefined;
  /** Base URLs, checked even while the app is off (a typo should not wait for the day it is turned on). */
  readonly urls: readonly (UrlVariable & { readonly name: Variable })[];
  /** Other settings with a default (`LINKEDIN_API_VERSION`), checked whether or not the app is on. */
  readonly values?: readonly (ValueVariable & { readonly name: Variable })[] | undefined;
  /** The app's settings from its variables' values (credentials trimmed, URLs normalised). */
  settings(values: Readonly<Record<Variable, string>>): Settings;
}

/** Timing knobs tests and the sandbox turn down (poll intervals, waits). */
export interface PublisherTuning {
  pollIntervalMs?: number;
  maxWaitMs?: number;
}

/**
 * What this install tells a publisher about itself: its public base URL (an AT Protocol client id
 * and its redirect URI are URLs of IQSP), and keys derived from the vault's master key for a
 * purpose of the platform's own (a client's signing key), so it needs no key file of its own.
 */
export interface PublisherContext {
  readonly publicUrl: string;
  /** 32 bytes for `purpose`, stable while VAULT_KEY is; throws where no vault was given (a unit test). */
  subkey(purpose: string): Buffer;
}

/** A post a simulator published, as the sandbox page lists it. */
export interface SimulatedPost {
  platform: string;
  account: string;
  text: string;
  url: string;
  media: number;
  at: string;
}

/**
 * A loopback simulator of a platform (src/simulators/), as the sandbox and end-to-end tests start
 * it. Modules that share one (Facebook and Instagram share the Graph simulator) hold the same object.
 */
export interface SimulatorSpec<Sim = unknown, Options = unknown> {
  /** Its key in `Simulators` (`sims.graph`, `sims.x`, ...). */
  readonly key: string;
  /** Builds it, not yet started; loaded on demand, so a real install never loads simulators. */
  create(options: Partial<Options>): Promise<Sim & SimulatorServer>;
  /** The variables that point IQSP at it (its app's credentials and base URLs). */
  env(sim: Sim): Record<string, string>;
  /** Every post it has published, for the sandbox page. */
  published(sim: Sim): SimulatedPost[];
}

/** What every simulator server does (src/simulators/server.ts). */
export interface SimulatorServer {
  readonly url: string;
  latencyMs: number;
  start(): Promise<unknown>;
  close(): Promise<void>;
  approveConsent(consentUrl: string, choice?: unknown): Promise<string>;
  denyConsent(consentUrl: string): Promise<string>;
}

interface PlatformModuleBase<Id extends string> {
  readonly id: Id;
  /** 'Facebook', 'Instagram', 'X', 'TikTok' */
  readonly displayName: string;
  /** What IQSP publishes to there, where it says so in a sentence ('Facebook Pages'); the display name when absent. */
  readonly publishesTo?: string | undefined;
  /**
   * Publishes running at once to one account on this platform: platforms rate-limit per account
   * (user token), and uploads are heavy. Other accounts and platforms run side by side, up to
   * PUBLISH_CONCURRENCY in all.
   */
  readonly concurrency: number;
  /** An option every post to this platform takes (TikTok's privacy level), when it has one. */
  readonly targetOption?: TargetOption | undefined;
  /** Its simulator, for the sandbox and end-to-end tests. */
  readonly simulator?: SimulatorSpec | undefined;
}

/**
 * A platform module: configured by one `app`, or by several `apps`, each of which turns the
 * platform on by itself (Instagram: Meta's app for Facebook Login, its own app for Instagram
 * Login). With `apps`, the platform is on when any of them is configured, and `createPublisher`
 * gets the settings of those that are, by app key (`{ meta?: …, instagram?: … }`).
 */
export type PlatformModule<Id extends string = string, Settings = unknown> = PlatformModuleBase<Id> &
  (
    | {
        readonly app: PlatformApp<Settings>;
        readonly apps?: undefined;
        /** The publisher, once the app is configured. */
        createPublisher(settings: Settings, tuning: PublisherTuning, context: PublisherContext): Publisher;
      }
    | {
        readonly app?: undefined;
        readonly apps: readonly PlatformApp[];
        /** The publisher, once any of the apps is configured: their settings by app key, the others absent. */
        createPublisher(settings: Settings, tuning: PublisherTuning, context: PublisherContext): Publisher;
      }
  );

/** The apps that configure a module, each of which turns it on. */
export function moduleApps(module: PlatformModule<string, unknown>): readonly PlatformApp[] {
  return module.apps ?? [module.app];
}
