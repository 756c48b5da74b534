/**
 * The shape of one platform's contract fixture. `contract.test.ts` runs the same suite over
 * every fixture (Kysely's per-dialect tests are the model): each case arranges `nock`
 * interceptors that match the exact outgoing requests (URL, method, headers, body fields),
 * acts through the publisher port, and checks the mapped result. Unmatched requests fail
 * (the network is disabled), and every arranged interceptor must have been used.
 */
import type { FailureClass, GrantedAccount, PublishResult, Publisher, StartedConsent, TokenSet } from '../../src/publishers/publisher.js';
import type { Platform } from '../../src/core/ports/platforms.js';
import type { FileMediaAccess } from '../helpers/file-media.js';

export interface ContractContext {
  /** A MediaAccess over test files (images and a small video are registered by the fixture). */
  media: FileMediaAccess;
  /** A temp folder the case may write files into. */
  workDir: string;
}

export interface ContractCase<R> {
  /** Registers nock interceptors for exactly the requests this case must make. */
  arrange(ctx: ContractContext): void | Promise<void>;
  act(publisher: Publisher, ctx: ContractContext): Promise<R>;
  check(result: R, ctx: ContractContext): void | Promise<void>;
}

export interface PublisherContract {
  platform: Platform;
  create(): Publisher;
  consent:
    | {
        redirectUri: string;
        /** Expected consent page (origin + path) and exact query parameters. */
        expectedUrl: string;
        expectedParams: Record<string, string>;
      }
    /** A publisher whose sign-in starts with requests of its own (`startConsent`): the case checks them and what it answers. */
    | { started: ContractCase<StartedConsent> };
  /** code → tokens → accounts with profile fields. */
  connect: ContractCase<GrantedAccount[]>;
  /** Present where `canRefresh`: `arrange` registers the refresh endpoint for ONE call. */
  refresh?: {
    tokens: TokenSet;
    /** false where the platform keeps the refresh token (Google): the stored one must stay. Default: it rotates. */
    rotates?: boolean;
    arrange(): void;
    check(tokens: TokenSet): void;
  };
  revoke: ContractCase<void>;
  publish: {
    text?: ContractCase<PublishResult>;
    image: ContractCase<PublishResult>;
    images?: ContractCase<PublishResult>;
    video?: ContractCase<PublishResult>;
  };
  /** One case per failure class, each checking the mapped result. */
  errors: Record<FailureClass, ContractCase<PublishResult>>;
}
