/**
 * The parts of Bolt the Slack surface runs, each from its own module: Bolt's index also loads
 * ExpressReceiver (express and some 40 packages) and AwsLambdaReceiver, which IQSP never uses;
 * our receiver (receiver.ts) serves Slack's requests inside Koa (issue 19). Types still come
 * from '@slack/bolt'.
 */
import { createRequire } from 'node:module';
import type { App as BoltApp } from '@slack/bolt';

export { LogLevel } from '@slack/bolt/dist/App.js';
export * as HTTPModuleFunctions from '@slack/bolt/dist/receivers/HTTPModuleFunctions.js';
export { HTTPResponseAck } from '@slack/bolt/dist/receivers/HTTPResponseAck.js';
export { ReceiverMultipleAckError, RespondError } from '@slack/bolt/dist/errors.js';

/**
 * Bolt's App class. App.js is CommonJS with `exports.default`: `require` reads it the same way
 * under Node and under the test runner (an ES default import does not).
 */
export const App = (createRequire(import.meta.url)('@slack/bolt/dist/App.js') as { default: typeof BoltApp }).default;
