/**
 * The platform simulators together, as end-to-end tests, the sandbox mode and browser tests
 * use them: one call starts every registered platform's simulator (src/publishers/registry.ts:
 * Graph for Facebook and Instagram, X, TikTok) on loopback ports and returns the environment
 * that points IQSP at them (contract.md §2).
 *
 *   const sims = await startSimulators({ latencyMs: 20 });
 *   const config = loadConfig({ ...sims.env, PUBLIC_URL: ... });
 *   const callback = await sims.followConsent(consentUrl);   // whichever platform it is
 *   sims.x.published; sims.graph.faults.push({ ... });
 *   await sims.close();
 */
import type { SimulatedPost, SimulatorServer, SimulatorSpec } from '../publishers/platform-module.js';
import { platformSimulators } from '../publishers/registry.js';
import type { ConsentChoice } from './consent.js';
import type { GraphSimulator, GraphSimulatorOptions } from './graph.js';
import type { TiktokSimulator, TiktokSimulatorOptions } from './tiktok.js';
import type { XSimulator, XSimulatorOptions } from './x.js';

export { ConsentRefused, type ConsentChoice } from './consent.js';
export {
  GraphSimulator,
  type GraphPublished,
  type GraphSimulatorOptions,
  type MetaUserSpec,
  type PageSpec,
  type InstagramAccountSpec,
} from './graph.js';
export { XSimulator, type XPublished, type XSimulatorOptions, type XAccountSpec } from './x.js';
export { TiktokSimulator, type TiktokPublished, type TiktokSimulatorOptions, type TiktokAccountSpec } from './tiktok.js';
export type { Fault, RecordedRequest } from './server.js';

export interface SimulatorsOptions {
  /** Milliseconds added to every answer of every simulator (a benchmark's network). */
  latencyMs?: number;
  /** Per simulator: accounts that exist, token lifetimes, processing polls, limits... */
  graph?: Partial<GraphSimulatorOptions>;
  x?: Partial<XSimulatorOptions>;
  tiktok?: Partial<TiktokSimulatorOptions>;
}

export interface Simulators {
  graph: GraphSimulator;
  x: XSimulator;
  tiktok: TiktokSimulator;
  /**
   * A simulator by its spec's key, for a platform without a typed field here (each platform's
   * own tests import its class from src/simulators/<platform>.ts and name it:
   * `sims.sim<LinkedinSimulator>('linkedin')`). Throws for a key no registered simulator has.
   */
  sim<T>(key: string): T;
  /** GRAPH_API_URL, FACEBOOK_AUTHORIZE_URL, FACEBOOK_APP_ID, ... TIKTOK_CLIENT_SECRET. */
  env: Record<string, string>;
  /** Approves a consent URL of any of them and returns the callback URL. */
  followConsent(consentUrl: string, choice?: ConsentChoice): Promise<string>;
  /** Denies it: the callback URL carries the platform's error. */
  denyConsent(consentUrl: string): Promise<string>;
  /** Every post any of them has published, newest first (the sandbox page). */
  published(): SimulatedPost[];
  /** Sets the added latency of all of them at once. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** One started simulator with the spec that made it. */
interface Running {
  spec: SimulatorSpec;
  sim: SimulatorServer;
}

export async function startSimulators(
  options: SimulatorsOptions = {},
  specs: readonly SimulatorSpec[] = platformSimulators(),
): Promise<Simulators> {
  const latency = options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs };
  const own = options as Readonly<Record<string, object | undefined>>;
  const all: Running[] = await Promise.all(specs.map(async (spec) => ({ spec, sim: await spec.create({ ...latency, ...own[spec.key] }) })));
  try {
    await Promise.all(all.map(({ sim }) => sim.start()));
  } catch (error) {
    await Promise.allSettled(all.map(({ sim }) => sim.close()));
    throw error;
  }

  const simulatorOf = (consentUrl: string): SimulatorServer => {
    const origin = new URL(consentUrl).origin;
    const running = all.find(({ sim }) => sim.url === origin);
    if (!running) throw new Error(`${origin} is not one of the simulators (${all.map(({ sim }) => sim.url).join(', ')})`);
    return running.sim;
  };
  // The registry's simulators by key; the typed fields are for tests that drive one platform's.
  const byKey = Object.fromEntries(all.map(({ spec, sim }) => [spec.key, sim]));

  return {
    graph: byKey.graph as GraphSimulator,
    x: byKey.x as XSimulator,
    tiktok: byKey.tiktok as TiktokSimulator,
    sim: <T>(key: string): T => {
      if (!(key in byKey)) throw new Error(`no simulator "${key}" (running: ${Object.keys(byKey).join(', ')})`);
      return byKey[key] as T;
    },
    env: Object.assign({}, ...all.map(({ spec, sim }) => spec.env(sim))) as Record<string, string>,
    followConsent: (consentUrl, choice) => simulatorOf(consentUrl).approveConsent(consentUrl, choice),
    denyConsent: (consentUrl) => simulatorOf(consentUrl).denyConsent(consentUrl),
    published: () => all.flatMap(({ spec, sim }) => spec.published(sim)).sort((a, b) => b.at.localeCompare(a.at)),
    setLatency(ms) {
      for (const { sim } of all) sim.latencyMs = ms;
    },
    close: async () => {
      await Promise.all(all.map(({ sim }) => sim.close()));
    },
  };
}
