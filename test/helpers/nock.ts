/**
 * nock as every publisher test uses it: no real network while the file runs (the loopback
 * interface only when a test runs its own server), and after each test every arranged
 * interceptor must have been used, so a request the code stopped making fails the test.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/** Registers the hooks for the current file or describe block. */
export function useNock(options: { allowLoopback?: boolean } = {}): void {
  beforeAll(() => networkOff(options));
  afterAll(() => networkOn());
  afterEach(() => expectEveryInterceptorUsed());
}

/** Real network off; `allowLoopback` keeps 127.0.0.1 reachable for a test's own server. */
export function networkOff(options: { allowLoopback?: boolean } = {}): void {
  nock.disableNetConnect();
  if (options.allowLoopback) nock.enableNetConnect('127.0.0.1');
}

/** Interceptors dropped and the real network back, for the next file. */
export function networkOn(): void {
  nock.cleanAll();
  nock.enableNetConnect();
}

/** Fails when an arranged interceptor was not used; clears them either way, so none leaks into the next test. */
export function expectEveryInterceptorUsed(): void {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every arranged request was made').toEqual([]);
}
