/** X's answer shapes (platform-apis.md §3.6): problem+json for the API, OAuth errors for the token endpoints. */
import { json, type SimResponse } from './server.js';

/** X's problem+json answer (§3.6). */
export function problem(status: number, title: string, detail: string, headers: Record<string, string> = {}, type?: string): SimResponse {
  const body = { title, detail, type: type ? `https://api.x.com/2/problems/${type}` : 'about:blank', status };
  return json(status, body, { 'content-type': 'application/problem+json', ...headers });
}

export function invalidRequest(errors: Array<Record<string, unknown>>): SimResponse {
  return json(
    400,
    {
      errors,
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
    },
    { 'content-type': 'application/problem+json' },
  );
}

/** The token endpoints answer OAuth errors, not problem+json. */
export function oauthError(status: number, error: string, description: string): SimResponse {
  return json(status, { error, error_description: description });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
