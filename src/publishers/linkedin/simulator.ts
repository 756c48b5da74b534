/** The LinkedIn simulator, as the sandbox and end-to-end tests start it. */
import type { LinkedinSimulator, LinkedinSimulatorOptions } from '../../simulators/linkedin.js';
import type { SimulatorSpec } from '../platform-module.js';

export const LINKEDIN_SIMULATOR: SimulatorSpec<LinkedinSimulator, LinkedinSimulatorOptions> = {
  key: 'linkedin',
  create: async (options) => new (await import('../../simulators/linkedin.js')).LinkedinSimulator(options),
  env: (linkedin) => ({
    LINKEDIN_API_URL: linkedin.url,
    LINKEDIN_AUTHORIZE_URL: linkedin.authorizeUrl,
    LINKEDIN_TOKEN_URL: linkedin.tokenUrl,
    LINKEDIN_CLIENT_ID: linkedin.options.clientId,
    LINKEDIN_CLIENT_SECRET: linkedin.options.clientSecret,
    LINKEDIN_API_VERSION: linkedin.options.apiVersion,
  }),
  published: (linkedin) =>
    linkedin.published.map((p) => ({
      platform: 'LinkedIn',
      account: p.authorName,
      text: p.text,
      url: p.permalink,
      media: p.media.length,
      at: p.at.toISOString(),
    })),
};
