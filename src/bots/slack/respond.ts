/**
 * Replies through a command's response_url over node:http(s) with keep-alive agents: the same
 * request Bolt's `respond` sends (a JSON POST; a non-2xx answer is a RespondError), at a third of
 * the CPU of `fetch`, and with a timeout. A burst of commands reuses a few connections to Slack.
 */
import http from 'node:http';
import https from 'node:https';
import type { RespondArguments } from '@slack/bolt';
import { keepAliveAgents } from '../../http/node-fetch.js';
import { RespondError } from './bolt.js';

/** Posts `message` to `responseUrl`; rejects on a non-2xx answer (RespondError), a network error or the timeout. */
export function postToResponseUrl(responseUrl: string, message: RespondArguments | string, timeoutMs = 30_000): Promise<void> {
  const url = new URL(responseUrl);
  const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!transport) return Promise.reject(new TypeError(`a response_url must be http(s), not ${url.protocol}`));
  const body = Buffer.from(JSON.stringify(typeof message === 'string' ? { text: message } : message));
  return new Promise<void>((resolve, reject) => {
    const req = transport.request(url, {
      method: 'POST',
      agent: keepAliveAgents[url.protocol as 'http:' | 'https:'],
      headers: { 'content-type': 'application/json', 'content-length': body.length },
      timeout: timeoutMs,
    });
    req.once('timeout', () => req.destroy(new Error(`the response_url did not answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.once('response', (res) => {
      // Read to the end so the connection goes back to the pool.
      res.resume();
      res.once('error', reject);
      res.once('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new RespondError(`Failed to respond to the response_url: ${status} ${res.statusMessage ?? ''}`, status));
      });
    });
    req.end(body);
  });
}

/** A `respond` for one response_url, shaped like Bolt's. */
export function responder(responseUrl: string): (message: RespondArguments | string) => Promise<void> {
  return (message) => postToResponseUrl(responseUrl, message);
}
