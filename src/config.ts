/**
 * The environment, parsed and validated once into one typed object (contract.md §2).
 *
 * Nothing else in the code base reads `process.env`: the CLI calls `loadConfig` and hands the
 * result to the composition root. An invalid value raises a `ConfigError` that names the
 * variable; the CLI turns it into one line on stderr and exit code 2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { parse as DotenvParse } from 'dotenv';
import { cronProblem } from './jobs/cron-expression.js';
import { canonicalZone } from './core/schedule/zones.js';
import type { PlatformApp } from './publishers/platform-module.js';
import { type AnyPlatformModule, moduleConfig, PLATFORM_MODULES, platformApps, type PlatformAppConfigs } from './publishers/registry.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export type SlackConfig =
  | { enabled: false; missing: string }
  | {
      enabled: true;
      /** Absent in Socket Mode without HTTP: `/slack/events` then refuses every request. */
      signingSecret: string | undefined;
      /** single-workspace mode */
      botToken: string | undefined;
      /** multi-workspace mode (install through /slack/install) */
      clientId: string | undefined;
      clientSecret: string | undefined;
      /** Socket Mode */
      appToken: string | undefined;
      apiUrl: string;
    };

/**
 * Where media bytes live: the local folder (`MEDIA_DIR`, the embedded default) or an S3 bucket
 * shared by several instances.
 */
export type MediaStoreConfig =
  | { kind: 'local' }
  | {
      kind: 's3';
      bucket: string;
      region: string;
      /** An S3-compatible service's URL; AWS S3 itself when undefined. */
      endpoint: string | undefined;
      forcePathStyle: boolean;
      /** Static keys; the AWS SDK's default credential chain when undefined. */
      credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
      prefix: string;
      /** `GET /media/:token` answers 302 to a short-lived presigned URL instead of streaming the bytes. */
      presignedRedirect: boolean;
    };

export type OptionalIntegration<T> = ({ enabled: true } & T) | { enabled: false; missing: string };

export interface Config {
  port: number;
  publicUrl: string;
  database: DatabaseLocation;
  mediaDir: string;
  mediaStore: MediaStoreConfig;
  vault: {
    /** base64 key from VAULT_KEY, or undefined to use `keyFile` */
    key: Buffer | undefined;
    keyFile: string;
    previousKeys: Buffer[];
  };
  slack: SlackConfig;
  discord: OptionalIntegration<{ token: string; applicationId: string; apiUrl: string }>;
  /**
   * Each platform app (src/publishers/registry.ts), by its key: on with the settings its module
   * parsed, or off and why. One app may serve several platforms (Meta's: Facebook and Instagram).
   */
  platformApps: PlatformAppConfigs;
  approvalsRequired: number;
  approvalTtlHours: number;
  mediaTtlHours: number;
  /** DEFAULT_TIMEZONE: the IANA zone of people whose chat does not give theirs, until their workspace sets one. */
  defaultTimeZone: string;
  /** SCHEDULE_MAX_DAYS: how far ahead a post may be scheduled. */
  scheduleMaxDays: number;
  /** PUBLISH_CONCURRENCY: publishes one worker runs at once in total (each platform also limits them per account). */
  publishConcurrency: number;
  cleanupCron: string;
  /** HEALTH_CRON: when the connection health check runs (issue 17). */
  healthCron: string;
  /** RECONNECT_WARN_DAYS: an account whose authorization lapses within this many days needs reconnecting. */
  reconnectWarnDays: number;
  /** WEBHOOK_URL and WEBHOOK_SECRET (both or neither): where post and account events are POSTed, signed. */
  webhook: { url: string; secret: string } | undefined;
  logLevel: LogLevel;
  /** TRUST_PROXY: Koa believes `X-Forwarded-*` (client address, protocol) only behind a proxy that sets them. */
  trustProxy: boolean;
  /** METRICS_TOKEN: when set, `/metrics` answers only with it as a bearer token. */
  metricsToken: string | undefined;
  /** Who runs this install and how to reach them (OPERATOR_NAME, OPERATOR_CONTACT), for /privacy and /terms. */
  operator: { name: string | undefined; contact: string | undefined };
  /** An operator's own privacy policy and terms (PRIVACY_POLICY_URL, TERMS_URL): /privacy and /terms redirect there. */
  policyUrls: { privacy: string | undefined; terms: string | undefined };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Variables that only a real install sets: a chat or platform credential, a database, a vault
 * key, a media bucket. Any of them set means the operator meant production, even if another
 * part (a secret mount that failed) is missing: the sandbox must never start then.
 */
const REAL_INSTALL_VARIABLES = [
  'SLACK_SIGNING_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_CLIENT_ID',
  'SLACK_CLIENT_SECRET',
  'SLACK_APP_TOKEN',
  'DISCORD_TOKEN',
  'DISCORD_APPLICATION_ID',
  // then every registered platform app's credentials (FACEBOOK_APP_ID, X_CLIENT_ID, ...)
  ...platformApps().flatMap((app) => app.credentials),
  // and those of platforms other installs may have set up, not (yet) registered here
  'LINKEDIN_CLIENT_ID',
  'LINKEDIN_CLIENT_SECRET',
  'GOOGLE_CLIENT_ID',
  'GOOGLE_CLIENT_SECRET',
  'THREADS_APP_ID',
  'THREADS_APP_SECRET',
  'DATABASE_URL',
  'VAULT_KEY',
  'VAULT_KEY_FILE',
  'VAULT_PREVIOUS_KEYS',
  'S3_BUCKET',
];

/** Where the sandbox keeps its simulated world, whatever the environment says. */
const SANDBOX_STORAGE = { DATABASE_URL: 'sqlite:./data/sandbox.sqlite', MEDIA_DIR: './data/sandbox-media' } as const;

export const SANDBOX_MODES = ['auto', 'on', 'off'] as const;

/** Whether `serve` runs the sandbox, and why (said at start). */
export type SandboxDecision = { run: true; why: string } | { run: false; why: string };

/**
 * IQSP_SANDBOX (contract.md §2). `auto` runs the sandbox only when nothing of a real install is
 * configured; `on` forces it, `off` forbids it. A bad value is a configuration error.
 */
export function sandboxDecision(env: Environment): SandboxDecision {
  const raw = (env.IQSP_SANDBOX ?? '').trim();
  const mode = raw === '' ? 'auto' : raw.toLowerCase();
  if (!(SANDBOX_MODES as readonly string[]).includes(mode)) throw new ConfigError('IQSP_SANDBOX', `must be auto, on or off (got "${raw}")`);
  if (mode === 'on') return { run: true, why: 'IQSP_SANDBOX=on' };
  if (mode === 'off') return { run: false, why: 'IQSP_SANDBOX=off' };
  const real = realInstallSetting(env);
  return real === undefined ? { run: true, why: 'nothing of a real install is configured' } : { run: false, why: `${real} is set` };
}

/** The first setting that says this is a real install, or undefined when there is none. */
function realInstallSetting(env: Environment): string | undefined {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const variable = REAL_INSTALL_VARIABLES.find(set);
  if (variable) return variable;
  if ((env.BLUESKY_ENABLED ?? '').trim().toLowerCase() === 'true') return 'BLUESKY_ENABLED';
  const publicUrl = (env.PUBLIC_URL ?? '').trim();
  if (publicUrl !== '' && !isLoopbackUrl(publicUrl)) return 'PUBLIC_URL';
  return undefined;
}

/**
 * The environment the sandbox runs on: the operator's, minus everything of a real install
 * (credentials, database, media bucket), on its own database and media folder, with the
 * simulators' settings. So even `IQSP_SANDBOX=on` never opens `DATABASE_URL` or speaks to a
 * real chat or platform.
 */
export function sandboxEnvironment(env: Environment, simulators: Environment): Environment {
  // The vault settings stay: they only seal the sandbox's own rows.
  const kept = new Set(['VAULT_KEY', 'VAULT_KEY_FILE', 'VAULT_PREVIOUS_KEYS']);
  const dropped = new Set<string>([...REAL_INSTALL_VARIABLES, 'BLUESKY_ENABLED', 'MEDIA_STORE'].filter((name) => !kept.has(name)));
  const own = Object.fromEntries(Object.entries(env).filter(([name]) => !dropped.has(name) && !name.startsWith('S3_')));
  return { ...own, ...SANDBOX_STORAGE, ...simulators };
}

/** Hosts a plain-HTTP PUBLIC_URL may name: this machine only. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True when `raw` is a URL whose host is this machine (localhost, 127.0.0.1, ::1). */
export function isLoopbackUrl(raw: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(raw).hostname);
  } catch {
    return false;
  }
}

/** Reads `.env` from `cwd` (if present) beneath the real environment, which wins. */
export function environmentWithDotenv(env: Environment, cwd: string): Environment {
  const file = path.join(cwd, '.env');
  if (!existsSync(file)) return env;
  // dotenv is loaded only when there is a file to read (issue 19: nothing held for nothing).
  const parseDotenv = (createRequire(import.meta.url)('dotenv') as { parse: typeof DotenvParse }).parse;
  const fromFile = parseDotenv(readFileSync(file));
  return { ...fromFile, ...stripUndefined(env) };
}

function stripUndefined(env: Environment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Parses every variable of contract.md §2. Relative paths are resolved against `cwd`. The
 * platforms' variables are those of `modules` (the registry's; tests may add a platform).
 */
export function loadConfig(
  env: Environment,
  cwd: string = process.cwd(),
  modules: readonly AnyPlatformModule[] = PLATFORM_MODULES,
): Config {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const port = parse('PORT', read('PORT') ?? '3000', wholeNumber(1, 65535), 'must be a port number between 1 and 65535');
  const publicUrl = trimSlash(httpUrl('PUBLIC_URL', read('PUBLIC_URL') ?? `http://localhost:${port}`));
  const allowHttp = optional(read('ALLOW_HTTP'), (v) => booleanValue('ALLOW_HTTP', v)) ?? false;
  // Connect links, OAuth redirect URIs and media URLs all start with PUBLIC_URL: over plain HTTP
  // anyone on the path reads them. Only this machine, or an operator who says so, may use http.
  if (publicUrl.startsWith('http:') && !isLoopbackUrl(publicUrl) && !allowHttp)
    throw new ConfigError(
      'PUBLIC_URL',
      `must be an https:// URL (got "${publicUrl}"); plain http is only for localhost, 127.0.0.1 and ::1, or set ALLOW_HTTP=true if TLS really ends elsewhere`,
    );

  // Base URLs are checked even when their integration is off: a typo should not wait for the day it is turned on.
  const url = (name: string, fallback: string) => trimSlash(httpUrl(name, read(name) ?? fallback));
  const discordApiUrl = url('DISCORD_API_URL', 'https://discord.com/api');
  const apps = platformApps(modules);
  const appUrls = apps.map((app) => appBaseUrls(app, read));

  const config: Config = {
    port,
    publicUrl,
    database: databaseLocation(read('DATABASE_URL') ?? 'sqlite:./data/iqsp.sqlite', cwd),
    mediaDir: path.resolve(cwd, read('MEDIA_DIR') ?? './data/media'),
    mediaStore: mediaStoreConfig(read),
    vault: {
      key: optional(read('VAULT_KEY'), (v) => parseKey('VAULT_KEY', v)),
      keyFile: path.resolve(cwd, read('VAULT_KEY_FILE') ?? './data/vault.key'),
      previousKeys: (read('VAULT_PREVIOUS_KEYS') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((k, i) => parseKey('VAULT_PREVIOUS_KEYS', k, `entry ${i + 1}`)),
    },
    slack: slackConfig(read),
    discord: integration(read, ['DISCORD_TOKEN', 'DISCORD_APPLICATION_ID'], ([token, applicationId]) => ({
      token,
      applicationId,
      apiUrl: discordApiUrl,
    })),
    platformApps: Object.fromEntries(apps.map((app, i) => [app.key, appConfig(app, read, appUrls[i]!)])),
    approvalsRequired: parse(
      'APPROVALS_REQUIRED',
      read('APPROVALS_REQUIRED') ?? '1',
      wholeNumber(0, 50),
      'must be a whole number from 0 to 50',
    ),
    approvalTtlHours: positiveHours('APPROVAL_TTL_HOURS', read('APPROVAL_TTL_HOURS') ?? '72'),
    mediaTtlHours: positiveHours('MEDIA_TTL_HOURS', read('MEDIA_TTL_HOURS') ?? '24'),
    defaultTimeZone: timeZone('DEFAULT_TIMEZONE', read('DEFAULT_TIMEZONE') ?? 'UTC'),
    scheduleMaxDays: parse(
      'SCHEDULE_MAX_DAYS',
      read('SCHEDULE_MAX_DAYS') ?? '30',
      wholeNumber(1, 366),
      'must be a whole number of days from 1 to 366',
    ),
    publishConcurrency: parse(
      'PUBLISH_CONCURRENCY',
      read('PUBLISH_CONCURRENCY') ?? '16',
      wholeNumber(1, Number.MAX_SAFE_INTEGER),
      'must be a positive whole number',
    ),
    cleanupCron: cronExpression(read('CLEANUP_CRON') ?? '*/10 * * * *'),
    healthCron: cronExpression(read('HEALTH_CRON') ?? '17 * * * *', 'HEALTH_CRON'),
    reconnectWarnDays: parse(
      'RECONNECT_WARN_DAYS',
      read('RECONNECT_WARN_DAYS') ?? '7',
      wholeNumber(1, 90),
      'must be a whole number of days from 1 to 90',
    ),
    webhook: webhookConfig(read),
    logLevel: parse('LOG_LEVEL', (read('LOG_LEVEL') ?? 'info').toLowerCase(), oneOf(LOG_LEVELS), `must be one of ${LOG_LEVELS.join(', ')}`),
    trustProxy: optional(read('TRUST_PROXY'), (v) => booleanValue('TRUST_PROXY', v)) ?? false,
    metricsToken: read('METRICS_TOKEN'),
    operator: { name: read('OPERATOR_NAME'), contact: optional(read('OPERATOR_CONTACT'), operatorContact) },
    policyUrls: {
      privacy: optional(read('PRIVACY_POLICY_URL'), (v) => httpUrl('PRIVACY_POLICY_URL', v)),
      terms: optional(read('TERMS_URL'), (v) => httpUrl('TERMS_URL', v)),
    },
  };
  return config;
}

/** WEBHOOK_URL and WEBHOOK_SECRET: both or neither; the URL http(s), the secret long enough to sign with. */
function webhookConfig(read: (name: string) => string | undefined): Config['webhook'] {
  const url = read('WEBHOOK_URL');
  const secret = read('WEBHOOK_SECRET');
  if (url === undefined && secret === undefined) return undefined;
  if (url === undefined) throw new ConfigError('WEBHOOK_URL', 'must be set when WEBHOOK_SECRET is (both or neither)');
  if (secret === undefined) throw new ConfigError('WEBHOOK_SECRET', 'must be set when WEBHOOK_URL is (both or neither)');
  if (secret.length < 16) throw new ConfigError('WEBHOOK_SECRET', 'must be at least 16 characters (a random string to sign events with)');
  return { url: httpUrl('WEBHOOK_URL', url), secret };
}

/** A platform app's base URLs and other settings (`LINKEDIN_API_VERSION`), checked whether or not the app is on. */
function appBaseUrls(app: PlatformApp, read: (name: string) => string | undefined): Record<string, string> {
  const entries: Array<[string, string]> = [
    ...app.urls.map(({ name, fallback, keepTrailingSlash }): [string, string] => {
      const value = httpUrl(name, read(name) ?? fallback);
      return [name, keepTrailingSlash ? value : trimSlash(value)];
    }),
    ...(app.values ?? []).map(({ name, fallback, pattern, expected }): [string, string] => {
      const value = read(name) ?? fallback;
      if (!pattern.test(value)) throw new ConfigError(name, `must be ${expected} (got "${value}")`);
      return [name, value];
    }),
  ];
  return Object.fromEntries(entries);
}

/**
 * A platform app: on with its settings when its credentials are set (all of them), off when none
 * is; or, for an app with a switch (`BLUESKY_ENABLED`), on when the switch is true.
 */
function appConfig(app: PlatformApp, read: (name: string) => string | undefined, urls: Record<string, string>): PlatformAppConfigs[string] {
  if (app.switch !== undefined) {
    const on = optional(read(app.switch), (v) => booleanValue(app.switch!, v)) ?? false;
    return on ? { enabled: true, settings: app.settings({ ...urls }) } : { enabled: false, missing: `${app.switch} not true` };
  }
  return integration(read, app.credentials, (values) => ({
    settings: app.settings({ ...Object.fromEntries(app.credentials.map((name, i) => [name, values[i]!])), ...urls }),
  }));
}

/** One line per integration: what is on and what is off, and why. */
export function integrationSummary(config: Config, modules: readonly AnyPlatformModule[] = PLATFORM_MODULES): Record<string, string> {
  const state = (i: { enabled: boolean; missing?: string }, on: string): string =>
    i.enabled ? on : `off (${(i as { missing: string }).missing})`;
  const slackMode = (): string => {
    if (!config.slack.enabled) return '';
    const modes = [
      config.slack.botToken && 'single workspace',
      config.slack.clientId && 'multi-workspace install',
      config.slack.appToken && 'Socket Mode',
    ].filter(Boolean);
    return `on (${modes.join(', ')})`;
  };
  return {
    slack: state(config.slack, slackMode()),
    discord: state(config.discord, 'on'),
    ...Object.fromEntries(modules.map((m) => [m.id, platformState(moduleConfig(m, config.platformApps))])),
    media: mediaStoreSummary(config),
  };
}

function platformState(app: PlatformAppConfigs[string] | undefined): string {
  if (app === undefined) return 'off (not configured)';
  return app.enabled ? 'on' : `off (${app.missing})`;
}

function mediaStoreSummary(config: Config): string {
  const store = config.mediaStore;
  if (store.kind === 'local') return `local folder ${config.mediaDir}`;
  const where = `s3://${store.bucket}/${store.prefix}${store.endpoint ? ` at ${store.endpoint}` : ` in ${store.region}`}`;
  return store.presignedRedirect ? `${where}, served by presigned redirects` : where;
}

/**
 * MEDIA_STORE and the S3_* variables. The S3 values are checked whenever they are set, even with
 * the local store (a typo should not wait for the day S3 is turned on); S3_BUCKET without
 * MEDIA_STORE is refused rather than guessed.
 */
function mediaStoreConfig(read: (name: string) => string | undefined): MediaStoreConfig {
  const raw = read('MEDIA_STORE');
  const kind = raw?.toLowerCase();
  if (kind !== undefined && kind !== 'local' && kind !== 's3') throw new ConfigError('MEDIA_STORE', `must be local or s3 (got "${raw}")`);
  const bucket = optional(read('S3_BUCKET'), bucketName);
  const region = optional(read('S3_REGION'), (v) => {
    if (!/^[a-z0-9-]{1,64}$/i.test(v)) throw new ConfigError('S3_REGION', `must be a region name such as eu-west-1 (got "${v}")`);
    return v;
  });
  const endpoint = optional(read('S3_ENDPOINT'), (v) => trimSlash(httpUrl('S3_ENDPOINT', v)));
  const forcePathStyle = optional(read('S3_FORCE_PATH_STYLE'), (v) => booleanValue('S3_FORCE_PATH_STYLE', v));
  const presignedRedirect = optional(read('S3_PRESIGNED_REDIRECT'), (v) => booleanValue('S3_PRESIGNED_REDIRECT', v));
  const prefix = optional(read('S3_PREFIX'), (v) => {
    if (v.startsWith('/') || !/^[A-Za-z0-9!_.*'()/-]{1,512}$/.test(v))
      throw new ConfigError(
        'S3_PREFIX',
        `must be a key prefix of letters, digits and !_.*'()/- not starting with "/", such as iqsp/ (got "${v}")`,
      );
    return v;
  });
  const keys = integration(read, ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'], ([accessKeyId, secretAccessKey]) => ({
    accessKeyId,
    secretAccessKey,
  }));

  if (kind === undefined && bucket !== undefined)
    throw new ConfigError(
      'MEDIA_STORE',
      'is not set but S3_BUCKET is: set MEDIA_STORE=s3 to keep media in the bucket, or MEDIA_STORE=local to keep it in MEDIA_DIR',
    );
  if (kind !== 's3') return { kind: 'local' };
  if (bucket === undefined) throw new ConfigError('S3_BUCKET', 'must be set when MEDIA_STORE=s3');
  if (region === undefined)
    throw new ConfigError(
      'S3_REGION',
      "must be set when MEDIA_STORE=s3: the bucket's region, such as eu-west-1 (S3-compatible services usually accept us-east-1)",
    );
  return {
    kind: 's3',
    bucket,
    region,
    endpoint,
    // Self-hosted S3-compatible services rarely have per-bucket DNS names; AWS S3 prefers them.
    forcePathStyle: forcePathStyle ?? endpoint !== undefined,
    credentials: keys.enabled ? { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey } : undefined,
    prefix: prefix ?? '',
    presignedRedirect: presignedRedirect ?? false,
  };
}

function bucketName(raw: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/.test(raw))
    throw new ConfigError('S3_BUCKET', `must be a bucket name (letters, digits, dots and hyphens), not a URL or a path (got "${raw}")`);
  return raw;
}

function booleanValue(variable: string, raw: string): boolean {
  const value = raw.toLowerCase();
  if (value !== 'true' && value !== 'false') throw new ConfigError(variable, `must be true or false (got "${raw}")`);
  return value === 'true';
}

function slackConfig(read: (name: string) => string | undefined): SlackConfig {
  const signingSecret = read('SLACK_SIGNING_SECRET');
  const botToken = read('SLACK_BOT_TOKEN');
  const clientId = read('SLACK_CLIENT_ID');
  const clientSecret = read('SLACK_CLIENT_SECRET');
  const appToken = read('SLACK_APP_TOKEN');
  const apiUrl = httpUrl('SLACK_API_URL', read('SLACK_API_URL') ?? 'https://slack.com/api/');
  const anySet = [signingSecret, botToken, clientId, clientSecret, appToken].some((v) => v !== undefined);
  if (!anySet) return { enabled: false, missing: 'SLACK_SIGNING_SECRET is not set' };
  if (clientId !== undefined && clientSecret === undefined)
    throw new ConfigError('SLACK_CLIENT_SECRET', 'must be set when SLACK_CLIENT_ID is set');
  if (clientSecret !== undefined && clientId === undefined)
    throw new ConfigError('SLACK_CLIENT_ID', 'must be set when SLACK_CLIENT_SECRET is set');
  // Socket Mode receives events over the app-level token's connection; HTTP mode needs the signing secret.
  if (signingSecret === undefined && appToken === undefined)
    throw new ConfigError(
      'SLACK_SIGNING_SECRET',
      'must be set to enable the Slack app over HTTP (other SLACK_* variables are set), or set SLACK_APP_TOKEN for Socket Mode',
    );
  if (botToken === undefined && clientId === undefined)
    throw new ConfigError(
      'SLACK_BOT_TOKEN',
      'set SLACK_BOT_TOKEN (single workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (multi-workspace install)',
    );
  if (botToken !== undefined && !botToken.startsWith('xoxb-'))
    throw new ConfigError('SLACK_BOT_TOKEN', 'must be a bot token starting with "xoxb-"');
  if (appToken !== undefined && !appToken.startsWith('xapp-'))
    throw new ConfigError('SLACK_APP_TOKEN', 'must be an app-level token starting with "xapp-"');
  return {
    enabled: true,
    signingSecret,
    botToken,
    clientId,
    clientSecret,
    appToken,
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
  };
}

/**
 * An integration is on when all its credential variables are set, off when none is, and a
 * configuration error when only some are (a half-configured integration is a typo, not a choice).
 */
function integration<const N extends readonly string[], T>(
  read: (name: string) => string | undefined,
  names: N,
  build: (values: { [K in keyof N]: string }) => T,
): OptionalIntegration<T> {
  const values = names.map((n) => read(n));
  const missing = names.filter((_, i) => values[i] === undefined);
  if (missing.length === names.length) return { enabled: false, missing: `${names.join(' and ')} not set` };
  if (missing.length > 0) {
    const set = names.filter((n) => !missing.includes(n));
    throw new ConfigError(missing[0]!, `must be set when ${set.join(' and ')} is set`);
  }
  return { enabled: true, ...build(values as { [K in keyof N]: string }) };
}

/**
 * A value read by `read` (undefined when it is not one), or a ConfigError naming the variable.
 * Plain checks rather than a schema library: these are a handful of numbers and one choice, and
 * zod alone held some 10 MB of every process (issue 19).
 */
function parse<T>(variable: string, raw: string, read: (raw: string) => T | undefined, problem: string): T {
  const value = read(raw);
  if (value === undefined) throw new ConfigError(variable, `${problem} (got "${raw}")`);
  return value;
}

/** A whole number from `min` to `max` (as Number() reads it: surrounding spaces allowed, "0x10" is 16). */
function wholeNumber(min: number, max: number): (raw: string) => number | undefined {
  return (raw) => {
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
}

/** One of `choices`, exactly. */
function oneOf<const C extends string>(choices: readonly C[]): (raw: string) => C | undefined {
  return (raw) => choices.find((choice) => choice === raw);
}

function optional<T>(raw: string | undefined, f: (raw: string) => T): T | undefined {
  return raw === undefined ? undefined : f(raw);
}

/** OPERATOR_CONTACT: an email address or an http(s) URL, as people will use it to reach the operator. */
function operatorContact(raw: string): string {
  if (/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(raw)) return raw;
  if (/^https?:\/\//i.test(raw)) return httpUrl('OPERATOR_CONTACT', raw);
  throw new ConfigError('OPERATOR_CONTACT', `must be an email address or an http(s) URL (got "${raw}")`);
}

function httpUrl(variable: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `must be an absolute http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(variable, `must be an http(s) URL (got "${url.protocol}")`);
  return raw;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function positiveHours(variable: string, raw: string): number {
  return parse(
    variable,
    raw,
    (value) => {
      const n = Number(value);
      return Number.isFinite(n) && n > 0 && n <= 24 * 365 ? n : undefined;
    },
    'must be a positive number of hours',
  );
}

/** An IANA zone name (`Europe/Berlin`), as the runtime's time zone data knows it. */
function timeZone(variable: string, raw: string): string {
  const zone = canonicalZone(raw.trim());
  if (!zone) throw new ConfigError(variable, `must be an IANA time zone such as Europe/Berlin or UTC; "${raw}" is not one`);
  return zone;
}

function cronExpression(raw: string, variable = 'CLEANUP_CRON'): string {
  const fields = raw.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new ConfigError(variable, `must be a 5-field cron expression (or 6 with seconds) (got "${raw}")`);
  const problem = cronProblem(raw);
  if (problem) throw new ConfigError(variable, `must be a 5-field cron expression (or 6 with seconds) (got "${raw}": ${problem})`);
  return raw;
}

function databaseLocation(raw: string, cwd: string): DatabaseLocation {
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path, as in sqlite:./data/iqsp.sqlite');
    return { kind: 'sqlite', path: file === ':memory:' ? file : path.resolve(cwd, file) };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    if (url.hostname === '' && !url.searchParams.get('host'))
      throw new ConfigError(
        'DATABASE_URL',
        'needs a host, as in postgres://iqsp:PASSWORD@db.example.com:5432/iqsp (or ?host=/run/postgresql for a Unix socket)',
      );
    if (url.pathname.replace(/^\//, '') === '')
      throw new ConfigError('DATABASE_URL', 'needs a database name after the host, as in postgres://…@db.example.com:5432/iqsp');
    sslModeOf(url);
    return { kind: 'postgres', url: raw };
  }
  throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://');
}

export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The `sslmode` of a postgres:// URL, with libpq's names; none means no TLS. */
export function sslModeOf(url: URL): SslMode | undefined {
  const mode = url.searchParams.get('sslmode');
  if (mode === null) return undefined;
  if (mode === 'allow')
    throw new ConfigError(
      'DATABASE_URL',
      'sslmode=allow is not supported (the driver cannot fall back from plain text to TLS); use disable, prefer, require, verify-ca or verify-full',
    );
  if (!(SSL_MODES as readonly string[]).includes(mode))
    throw new ConfigError('DATABASE_URL', `sslmode must be one of ${SSL_MODES.join(', ')} (got "${mode}")`);
  if (mode === 'verify-ca' && !url.searchParams.get('sslrootcert'))
    throw new ConfigError('DATABASE_URL', "sslmode=verify-ca needs sslrootcert=PATH (the CA certificate that signed the server's)");
  return mode as SslMode;
}

/** A key is base64 (standard or URL-safe) of exactly 32 bytes. */
export function parseKey(variable: string, raw: string, where?: string): Buffer {
  const label = where ? ` (${where})` : '';
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw))
    throw new ConfigError(variable, `must be base64 of 32 random bytes${label}; run "iqsp keygen" to make one`);
  const bytes = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== 32)
    throw new ConfigError(variable, `must be base64 of 32 random bytes${label}, got ${bytes.length} bytes; run "iqsp keygen" to make one`);
  return bytes;
}
