/**
 * The platforms IQSP publishes to, as the core knows them. Each platform describes itself in its
 * folder under src/publishers/ (id, name, configuration, options, its publisher); the registry
 * lists them, and the `Platform` type derives from that list. The core takes only the type from
 * there: at run time it is handed the platforms' descriptions (`PlatformDescriptor`).
 */
import type { PlatformId } from '../../publishers/registry.js';

export type Platform = PlatformId;

/**
 * An option a post to one platform takes, written `platform:word` in the chat grammar (TikTok's
 * privacy level: `tiktok:public`). Chat forms offer the words with their labels.
 */
export interface TargetOption {
  /** The key in a draft's options (`privacy`). */
  readonly key: string;
  /** The grammar's words, in the order forms offer them. */
  readonly words: readonly string[];
  /** What a form shows for each word. */
  readonly labels: Readonly<Record<string, string>>;
  /** Needed on every post, with no default (TikTok's audit forbids a preselected privacy level). */
  readonly required: boolean;
  /** A form field's description: what the option decides, and when it is read. */
  readonly description: string;
}

/** What the core and the chat surfaces know of one platform. */
export interface PlatformDescriptor {
  readonly id: Platform;
  /** 'Facebook', 'Instagram', 'X', 'TikTok' */
  readonly displayName: string;
  readonly targetOption?: TargetOption | undefined;
}
