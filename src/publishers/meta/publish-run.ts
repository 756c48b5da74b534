/**
 * The frame of one Meta publish: every request runs as a step of a known stage, and whatever
 * goes wrong in it becomes the port's Failure for that stage. The flows in facebook/ and
 * instagram/ then read as the documented sequence of calls, without a try/catch per call.
 */
import { NetworkError } from '../http.js';
import type { Failure, PublishResult } from '../publisher.js';
import { networkFailure, type PublishStage } from './errors.js';
import { GraphResponseError, UnexpectedGraphAnswer } from './graph-client.js';

export type MapGraphError = (status: number, headers: Headers, body: unknown, stage: PublishStage) => Failure;

/** Ends a publish early with a mapped failure; caught by `runPublish`. */
export class PublishStopped extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'PublishStopped';
  }
}

export class MetaPublishRun {
  constructor(
    readonly platform: string,
    private readonly mapError: MapGraphError,
    readonly signal?: AbortSignal | undefined,
  ) {}

  /** Runs one request of the flow; its failure is mapped for `stage`. */
  async step<T>(stage: PublishStage, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new PublishStopped(this.failureOf(error, stage));
    }
  }

  stop(failure: Failure): never {
    throw new PublishStopped(failure);
  }

  failureOf(error: unknown, stage: PublishStage): Failure {
    if (error instanceof PublishStopped) return error.failure;
    if (error instanceof GraphResponseError) return this.mapError(error.status, error.headers, error.body, stage);
    if (error instanceof NetworkError) return networkFailure(this.platform, error, stage);
    if (this.signal?.aborted) return networkFailure(this.platform, new NetworkError('the attempt was stopped', true, false), stage);
    if (error instanceof UnexpectedGraphAnswer)
      return stage === 'prepare'
        ? {
            class: 'retryable',
            message: `${this.platform} gave an unexpected answer (${error.message}); nothing was posted and it will be tried again.`,
            platformCode: 'meta:unexpected',
          }
        : {
            class: 'unknown',
            message: `${this.platform} gave an unexpected answer while publishing (${error.message}); look at ${this.platform} before posting again.`,
            platformCode: 'meta:unexpected',
          };
    // Anything else is a bug or a local fault (media store): let the caller see it as it is.
    throw error;
  }

  /** Waits between polls; an abort ends the wait at once, as a failure of `stage`. */
  sleep(ms: number, stage: PublishStage): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.signal;
      const stopped = (): PublishStopped => new PublishStopped(this.failureOf(signal?.reason, stage));
      if (signal?.aborted) return reject(stopped());
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(stopped());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Runs a publish flow and turns an early stop into the `failed` result. */
export async function runPublish(flow: () => Promise<PublishResult>): Promise<PublishResult> {
  try {
    return await flow();
  } catch (error) {
    if (error instanceof PublishStopped) return { kind: 'failed', failure: error.failure };
    throw error;
  }
}
