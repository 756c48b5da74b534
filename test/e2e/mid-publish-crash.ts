/**
 * The platform side of the SIGKILL-mid-publish scenario (restart.contract.test.ts, run through
 * every chat surface): which requests are held at the moment of the kill, how to know that
 * moment has come, and the invariant afterwards (every approved target published once, nothing resent).
 */
import { expect } from 'vitest';
import type { Simulators } from '../../src/simulators/index.js';
import { publishedCounts, requestsTo } from './platforms.js';
import { waitFor, type ServiceProcess } from './service.js';

export const TWEET_PATH = /^\/2\/tweets$/;
export const IG_CONTAINER_PATH = /^\/v[\d.]+\/17841400000000001\/media$/;
/** A target's result line in the post's thread. */
export const RESULT_LINE = /^(X|Facebook|Instagram|TikTok) [^:]+: (published|unconfirmed|failed)/;

/** X creates the tweet but its answer never comes; Instagram's container request is held and creates nothing. */
export function holdXAndInstagram(sims: Simulators): void {
  sims.x.faults.push({ match: (method, path) => method === 'POST' && TWEET_PATH.test(path), kind: 'hang', process: true });
  sims.graph.faults.push({ match: (method, path) => method === 'POST' && IG_CONTAINER_PATH.test(path), kind: 'hang' });
}

/** Waits until the tweet exists at X and Instagram's container request is being held. */
export async function heldRequestsArrived(sims: Simulators, service: ServiceProcess): Promise<void> {
  await waitFor(
    () => sims.x.published.length === 1 && requestsTo(sims, 'graph', 'POST', IG_CONTAINER_PATH).length === 1,
    'the held X and Instagram requests',
    {
      context: () => service.tail(),
    },
  );
}

/**
 * The platforms whose targets are marked as reported (`finished_at`). A result line is said,
 * then its target marked: a kill in between would have it said again after the restart (at
 * least once, never never), so the kill waits for both.
 */
export function reportedPlatforms(service: ServiceProcess): Promise<string[]> {
  return service.read(async (db) =>
    (await db.selectFrom('post_targets').select('platform').where('finished_at', 'is not', null).execute()).map((t) => t.platform).sort(),
  );
}

/** Every approved target ended once; the unconfirmed one was not sent again. */
export function expectEachPublishedOnce(sims: Simulators): void {
  expect(publishedCounts(sims)).toEqual({ x: 1, facebook: 1, instagram: 1, tiktok: 1 });
  expect(requestsTo(sims, 'x', 'POST', TWEET_PATH)).toHaveLength(1);
  expect(requestsTo(sims, 'graph', 'POST', /\/100000000000001\/photos$/)).toHaveLength(1);
  expect(requestsTo(sims, 'graph', 'POST', /\/media_publish$/)).toHaveLength(1);
  expect(requestsTo(sims, 'tiktok', 'POST', /^\/v2\/post\/publish\/content\/init\/?$/)).toHaveLength(1);
}
