/** The Threads simulator, as the sandbox and end-to-end tests start it. */
import type { ThreadsSimulator, ThreadsSimulatorOptions } from '../../simulators/threads.js';
import type { SimulatorSpec } from '../platform-module.js';

export const THREADS_SIMULATOR: SimulatorSpec<ThreadsSimulator, ThreadsSimulatorOptions> = {
  key: 'threads',
  create: async (options) => new (await import('../../simulators/threads.js')).ThreadsSimulator(options),
  env: (sim) => ({
    THREADS_API_URL: sim.apiUrl,
    THREADS_AUTHORIZE_URL: sim.authorizeUrl,
    THREADS_APP_ID: sim.options.appId,
    THREADS_APP_SECRET: sim.options.appSecret,
  }),
  published: (sim) =>
    sim.published.map((p) => ({
      platform: 'Threads',
      account: `@${p.username}`,
      text: p.text ?? '',
      url: p.permalink,
      media: p.media.length,
      at: p.at.toISOString(),
    })),
};
