/** What the sandbox page shows of the simulated platforms: every post they have published. */
import type { Simulators } from '../simulators/index.js';
import type { SandboxPlatforms } from './surface.js';

export function simulatedPlatforms(sims: Simulators): SandboxPlatforms {
  return {
    published() {
      const graph = sims.graph.published.map((p) => ({
        platform: p.platform === 'facebook' ? 'Facebook' : 'Instagram',
        account: sims.graph.accountName(p.accountId) ?? p.accountId,
        text: p.caption ?? '',
        url: p.permalink,
        media: p.media.length,
        at: p.at.toISOString(),
      }));
      const x = sims.x.published.map((p) => ({
        platform: 'X',
        account: `@${p.username}`,
        text: p.text ?? '',
        url: p.permalink,
        media: p.media.length,
        at: p.at.toISOString(),
      }));
      const tiktok = sims.tiktok.published.map((p) => ({
        platform: 'TikTok',
        account: `@${p.username}`,
        text: [p.title, p.description].filter(Boolean).join(' — '),
        url: p.permalink,
        media: p.media.length,
        at: p.at.toISOString(),
      }));
      return [...graph, ...x, ...tiktok].sort((a, b) => b.at.localeCompare(a.at));
    },
  };
}
