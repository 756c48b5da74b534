/**
 * The PublishRequest a publisher test hands to `publish`: an account, its tokens, a draft
 * (empty caption, no media, no options unless given), the test's MediaAccess, and, when the
 * test keeps a log, the progress reports and the moment `beforeCommit` ran.
 */
import type { MediaAccess } from '../../src/media/media.js';
import type { AccountRef, PostDraft, PublishProgress, PublishRequest, TokenSet } from '../../src/publishers/publisher.js';

/** What happened around a publish, in order: the commit marker, the requests a test records, progress. */
export interface PublishLog {
  events: string[];
  progress: PublishProgress[];
}

export function newLog(): PublishLog {
  return { events: [], progress: [] };
}

export interface PublishRequestParts {
  account: AccountRef;
  tokens: TokenSet;
  draft: Partial<PostDraft>;
  media: MediaAccess;
  /** Where progress and the `beforeCommit` call go, as `commitEvent` (default 'beforeCommit'). */
  log?: PublishLog | undefined;
  commitEvent?: string;
}

export function publishRequest(parts: PublishRequestParts): PublishRequest {
  const { log, commitEvent = 'beforeCommit' } = parts;
  return {
    account: parts.account,
    tokens: parts.tokens,
    draft: { caption: '', media: [], options: {}, ...parts.draft },
    media: parts.media,
    onProgress: (progress) => log?.progress.push(progress),
    beforeCommit: () => {
      log?.events.push(commitEvent);
      return Promise.resolve();
    },
  };
}
