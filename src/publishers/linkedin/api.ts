/**
 * One call to the LinkedIn API, with every non-success answer turned into a mapped Failure.
 * Every /rest/* call carries `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`
 * (more-platforms.md §1.4); /v2/userinfo takes the bearer alone.
 */
import { httpRequest, NetworkError } from '../http.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import type { Failure } from '../publisher.js';
import type { LinkedinStage } from './errors.js';
import { mapLinkedinError, mapLinkedinNetworkError } from './errors.js';

/** What every call needs: where the API is, which version, whose token. */
export interface LinkedinApi {
  apiUrl: string;
  apiVersion: string;
  accessToken: string;
  signal?: AbortSignal | undefined;
}

/** Thrown inside this folder to stop a publish; `publish` returns its failure. */
export class LinkedinCallFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'LinkedinCallFailed';
  }
}

/** The headers of a versioned /rest/* call. */
export function restHeaders(api: LinkedinApi, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Authorization: `Bearer ${api.accessToken}`,
    'LinkedIn-Version': api.apiVersion,
    'X-Restli-Protocol-Version': '2.0.0',
    ...extra,
  };
}

/** A versioned /rest/* call (`path` starts with /rest/); a non-2xx answer throws its mapped failure. */
export async function restCall(
  api: LinkedinApi,
  path: string,
  request: Omit<HttpRequest, 'headers' | 'signal'> & { headers?: Record<string, string> },
  stage: LinkedinStage,
): Promise<HttpResponse> {
  return checkedCall(`${api.apiUrl}${path}`, { ...request, headers: restHeaders(api, request.headers), signal: api.signal }, stage);
}

/** Any call (an upload URL, /v2/userinfo); a non-2xx answer throws its mapped failure. */
export async function checkedCall(url: string, request: HttpRequest, stage: LinkedinStage): Promise<HttpResponse> {
  let answer: HttpResponse;
  try {
    answer = await httpRequest(url, request);
  } catch (error) {
    if (error instanceof NetworkError) throw new LinkedinCallFailed(mapLinkedinNetworkError(error, stage));
    throw error;
  }
  if (answer.status < 200 || answer.status >= 300) throw new LinkedinCallFailed(mapLinkedinError(answer, stage));
  return answer;
}

/** A URN in a path or query: Rest.li 2.0 wants it percent-encoded. */
export function encodeUrn(urn: string): string {
  return encodeURIComponent(urn);
}

export const PERSON_URN_PREFIX = 'urn:li:person:';
export const ORGANIZATION_URN_PREFIX = 'urn:li:organization:';

export function isOrganization(urn: string): boolean {
  return urn.startsWith(ORGANIZATION_URN_PREFIX);
}

/** The link of a live post. */
export function postPermalink(urn: string): string {
  return `https://www.linkedin.com/feed/update/${urn}/`;
}
