/**
 * The steps of a Meta sign-in (Facebook Login on graph.facebook.com, Instagram Login on
 * graph.instagram.com), as each login's callback takes them: a Graph refusal or a network failure
 * becomes a `ConnectError` a person can read on the callback page, naming the platform and the
 * step; an answer without a field the next step needs is one too.
 */
import { NetworkError } from '../http.js';
import { ConnectError } from '../publisher.js';
import { errorDetail, readGraphError } from './errors.js';
import { GraphResponseError } from './graph-client.js';
import { stringField, type JsonObject } from './graph-json.js';

/** One connect step: `platform` is the name people know ('Facebook', 'Instagram'); `what` the step ('extend the login'). */
export async function connectStep(platform: string, what: string, work: () => Promise<JsonObject>): Promise<JsonObject> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GraphResponseError) {
      const code = readGraphError(error.body)?.code;
      throw new ConnectError(
        `${platform} refused when IQSP tried to ${what} (${errorDetail(error.body, error.status)}); try connecting again.`,
        code !== undefined ? `meta:${code}` : `meta:http_${error.status}`,
      );
    }
    if (error instanceof NetworkError)
      throw new ConnectError(`IQSP could not reach ${platform} to ${what} (${error.message}); try connecting again.`, 'network');
    throw error;
  }
}

/** A field the next step needs, from a step's answer. */
export function requiredField(platform: string, answer: JsonObject, key: string, what: string, code: string): string {
  const value = stringField(answer, key);
  if (!value) throw new ConnectError(`${platform} answered without ${key} when IQSP tried to ${what}; try connecting again.`, code);
  return value;
}
