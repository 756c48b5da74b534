/**
 * The platform simulators together, as end-to-end tests, the sandbox mode and browser tests
 * use them: one call starts Graph (Facebook + Instagram), X and TikTok on loopback ports and
 * returns the environment that points IQSP at them (contract.md §2).
 *
 *   const sims = await startSimulators({ latencyMs: 20 });
 *   const config = loadConfig({ ...sims.env, PUBLIC_URL: ... });
 *   const callback = await sims.followConsent(consentUrl);   // whichever platform it is
 *   sims.x.published; sims.graph.faults.push({ ... });
 *   await sims.close();
 */
import type { ConsentChoice } from './consent.js';
import { GraphSimulator, type GraphSimulatorOptions } from './graph.js';
import { TiktokSimulator, type TiktokSimulatorOptions } from './tiktok.js';
import { XSimulator, type XSimulatorOptions } from './x.js';

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
  /** GRAPH_API_URL, FACEBOOK_AUTHORIZE_URL, FACEBOOK_APP_ID, ... TIKTOK_CLIENT_SECRET. */
  env: Record<string, string>;
  /** Approves a consent URL of any of the three and returns the callback URL. */
  followConsent(consentUrl: string, choice?: ConsentChoice): Promise<string>;
  /** Denies it: the callback URL carries the platform's error. */
  denyConsent(consentUrl: string): Promise<string>;
  /** Sets the added latency of all three at once. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export async function startSimulators(options: SimulatorsOptions = {}): Promise<Simulators> {
  const latency = options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs };
  const graph = new GraphSimulator({ ...latency, ...options.graph });
  const x = new XSimulator({ ...latency, ...options.x });
  const tiktok = new TiktokSimulator({ ...latency, ...options.tiktok });
  const all = [graph, x, tiktok] as const;
  try {
    await Promise.all(all.map((sim) => sim.start()));
  } catch (error) {
    await Promise.allSettled(all.map((sim) => sim.close()));
    throw error;
  }

  const simulatorOf = (consentUrl: string): GraphSimulator | XSimulator | TiktokSimulator => {
    const origin = new URL(consentUrl).origin;
    const sim = all.find((s) => s.url === origin);
    if (!sim) throw new Error(`${origin} is not one of the simulators (${all.map((s) => s.url).join(', ')})`);
    return sim;
  };

  return {
    graph,
    x,
    tiktok,
    env: {
      GRAPH_API_URL: graph.graphApiUrl,
      FACEBOOK_AUTHORIZE_URL: graph.authorizeUrl,
      FACEBOOK_APP_ID: graph.options.appId,
      FACEBOOK_APP_SECRET: graph.options.appSecret,
      X_API_URL: x.url,
      X_AUTHORIZE_URL: x.authorizeUrl,
      X_CLIENT_ID: x.options.clientId,
      X_CLIENT_SECRET: x.options.clientSecret,
      TIKTOK_API_URL: tiktok.url,
      TIKTOK_AUTHORIZE_URL: tiktok.authorizeUrl,
      TIKTOK_CLIENT_KEY: tiktok.options.clientKey,
      TIKTOK_CLIENT_SECRET: tiktok.options.clientSecret,
    },
    followConsent: (consentUrl, choice) => simulatorOf(consentUrl).approveConsent(consentUrl, choice),
    denyConsent: (consentUrl) => simulatorOf(consentUrl).denyConsent(consentUrl),
    setLatency(ms) {
      for (const sim of all) sim.latencyMs = ms;
    },
    close: async () => {
      await Promise.all(all.map((sim) => sim.close()));
    },
  };
}
