/**
 * The Graph API client shared by Facebook and Instagram. Every call that carries a token also
 * carries `appsecret_proof` (HMAC-SHA256 of the token with the app secret), so the service keeps
 * working when "Require App Secret" is switched on in the app dashboard, and a leaked token is
 * useless without the secret.
 */
import { createHmac } from 'node:crypto';
import { formBody, httpRequest } from '../http.js';
import { asObject, type JsonObject } from './graph-json.js';

export type GraphMethod = 'GET' | 'POST' | 'DELETE';

export interface GraphCall {
  /** The user, Page or app token; omitted for the code exchange, which uses client_secret. */
  token?: string | undefined;
  params?: Record<string, string | undefined>;
  signal?: AbortSignal | undefined;
}

/** Graph answered with an error (or a non-2xx status). The body is kept for the error mapping. */
export class GraphResponseError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: unknown,
  ) {
    super(`the Graph API answered ${status}`);
    this.name = 'GraphResponseError';
  }
}

/** Graph answered 2xx without a field the documented flow promises (e.g. no `id`). */
export class UnexpectedGraphAnswer extends Error {
  constructor(what: string) {
    super(`the Graph API answered without ${what}`);
    this.name = 'UnexpectedGraphAnswer';
  }
}

export function appSecretProof(token: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(token).digest('hex');
}

export class GraphClient {
  private readonly base: string;

  constructor(
    graphApiUrl: string,
    private readonly appSecret: string,
  ) {
    this.base = graphApiUrl.replace(/\/+$/, '');
  }

  get(path: string, call: GraphCall = {}): Promise<JsonObject> {
    return this.request('GET', path, call);
  }

  post(path: string, call: GraphCall = {}): Promise<JsonObject> {
    return this.request('POST', path, call);
  }

  delete(path: string, call: GraphCall = {}): Promise<JsonObject> {
    return this.request('DELETE', path, call);
  }

  /**
   * One Graph call: parameters go in the query string for GET/DELETE and in a form body for
   * POST, as the documentation shows them. Resolves with the JSON object of a 2xx answer;
   * throws `GraphResponseError` for an error answer and `NetworkError` when there was none.
   */
  async request(method: GraphMethod, path: string, call: GraphCall): Promise<JsonObject> {
    const fields: Record<string, string | undefined> = { ...call.params };
    if (call.token !== undefined) {
      fields.access_token = call.token;
      fields.appsecret_proof = appSecretProof(call.token, this.appSecret);
    }
    const encoded = formBody(fields);
    const url = `${this.base}/${path.replace(/^\/+/, '')}`;
    const response =
      method === 'POST'
        ? await httpRequest(url, { method, body: encoded, signal: call.signal })
        : await httpRequest(encoded.size > 0 ? `${url}?${encoded.toString()}` : url, { method, signal: call.signal });
    const json = asObject(response.json);
    if (response.status < 200 || response.status >= 300 || json?.error !== undefined)
      throw new GraphResponseError(response.status, response.headers, response.json);
    // DELETE answers `{"success":true}` (older versions a bare `true`): both are success.
    return json ?? {};
  }
}
