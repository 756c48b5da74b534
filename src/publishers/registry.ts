/**
 * The platforms IQSP publishes to: one self-describing module per folder, one line each. Adding a
 * platform adds its folder and one line here (docs/adding-a-platform.md); config, the chat
 * grammar and forms, the Slack manifest, the CLI and the sandbox loop over this list, and the
 * `Platform` type derives from it.
 */
import type { PlatformDescriptor } from '../core/ports/platforms.js';
import { blueskyPlatform } from './bluesky/index.js';
import { facebookPlatform } from './facebook/index.js';
import { instagramPlatform } from './instagram/index.js';
import { linkedinPlatform } from './linkedin/index.js';
import {
  moduleApps,
  type PlatformApp,
  type PlatformModule,
  type PublisherContext,
  type PublisherTuning,
  type SimulatorSpec,
} from './platform-module.js';
import type { Publisher } from './publisher.js';
import { tiktokPlatform } from './tiktok/index.js';
import { threadsPlatform } from './threads/index.js';
import { xPlatform } from './x/index.js';
import { youtubePlatform } from './youtube/index.js';

export const PLATFORM_MODULES = [
  facebookPlatform,
  instagramPlatform,
  xPlatform,
  tiktokPlatform,
  linkedinPlatform,
  youtubePlatform,
  threadsPlatform,
  blueskyPlatform,
] as const;

/** 'facebook' | 'instagram' | 'x' | 'tiktok' */
export type PlatformId = (typeof PLATFORM_MODULES)[number]['id'];

/** Any platform module, whatever its settings: what generic code loops over. */
export type AnyPlatformModule = PlatformModule<PlatformId, unknown>;

export type { PublisherContext, PublisherTuning };

export type Publishers = ReadonlyMap<PlatformId, Publisher>;

/** Each platform app's configuration, by its key (`Config.platformApps`): on with its settings, or off and why. */
export type PlatformAppConfigs = Readonly<Record<string, { enabled: true; settings: unknown } | { enabled: false; missing: string }>>;

/** Publishes running at once per platform, across all workspaces (each module says its own). */
export function publishConcurrency(modules: readonly AnyPlatformModule[] = PLATFORM_MODULES): Record<PlatformId, number> {
  return Object.fromEntries(modules.map((m) => [m.id, m.concurrency])) as Record<PlatformId, number>;
}

export const PUBLISH_CONCURRENCY: Readonly<Record<PlatformId, number>> = publishConcurrency();

/** The apps the modules are configured by, each once (Facebook and Instagram share Meta's), in registry order. */
export function platformApps(modules: readonly AnyPlatformModule[] = PLATFORM_MODULES): PlatformApp[] {
  return [...new Map(modules.flatMap((m) => moduleApps(m).map((app) => [app.key, app] as const))).values()];
}

/**
 * Whether a module is on, from its apps' configuration: with one app, that app's; with several,
 * on when any is configured, its settings those of the configured apps by key.
 */
export function moduleConfig(module: AnyPlatformModule, apps: PlatformAppConfigs): PlatformAppConfigs[string] {
  if (module.apps === undefined) return apps[module.app.key] ?? { enabled: false, missing: 'not configured' };
  const states = module.apps.map((app) => [app.key, apps[app.key] ?? { enabled: false as const, missing: 'not configured' }] as const);
  const on = states.filter(([, state]) => state.enabled);
  if (on.length > 0)
    return { enabled: true, settings: Object.fromEntries(on.map(([key, state]) => [key, state.enabled ? state.settings : undefined])) };
  return { enabled: false, missing: states.map(([, state]) => (state.enabled ? '' : state.missing)).join(', and ') };
}

/** The simulators of the modules, each once (Facebook and Instagram share the Graph simulator), in registry order. */
export function platformSimulators(modules: readonly AnyPlatformModule[] = PLATFORM_MODULES): SimulatorSpec[] {
  return [...new Map(modules.flatMap((m) => (m.simulator ? [[m.simulator.key, m.simulator] as const] : []))).values()];
}

/** What the core and the chat surfaces know of each platform. */
export function platformDescriptors(modules: readonly AnyPlatformModule[] = PLATFORM_MODULES): PlatformDescriptor[] {
  return modules.map((m) => ({ id: m.id, displayName: m.displayName, targetOption: m.targetOption }));
}

/** "Facebook Pages, Instagram, X and TikTok": what IQSP publishes to, for descriptions (the Slack manifest, the CLI). */
export function publishesToList(modules: readonly AnyPlatformModule[] = PLATFORM_MODULES): string {
  const names = modules.map((m) => m.publishesTo ?? m.displayName);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The publishers this install has enabled: every module whose app is configured. */
export function createPublishers(
  config: { platformApps: PlatformAppConfigs; publicUrl: string },
  tuning: PublisherTuning = {},
  modules: readonly AnyPlatformModule[] = PLATFORM_MODULES,
  keys?: { subkey(purpose: string): Buffer },
): Publishers {
  const context: PublisherContext = {
    publicUrl: config.publicUrl,
    subkey: (purpose) => {
      if (!keys) throw new Error(`no vault was given to derive the key "${purpose}" from`);
      return keys.subkey(`platform/${purpose}`);
    },
  };
  const publishers = new Map<PlatformId, Publisher>();
  for (const module of modules) {
    const state = moduleConfig(module, config.platformApps);
    if (state.enabled) publishers.set(module.id, module.createPublisher(state.settings, tuning, context));
  }
  return publishers;
}
