/** One call to the X API, with every non-success answer turned into a mapped Failure. */
import { httpRequest, NetworkError } from '../http.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import type { Failure } from '../publisher.js';
import type { XStage } from './errors.js';
import { mapXError, mapXNetworkError } from './errors.js';

/** Thrown inside this folder to stop a publish; `publish` returns its failure. */
export class XCallFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'XCallFailed';
  }
}

export async function xCall(url: string, request: HttpRequest, stage: XStage): Promise<HttpResponse> {
  let answer: HttpResponse;
  try {
    answer = await httpRequest(url, request);
  } catch (error) {
    if (error instanceof NetworkError) throw new XCallFailed(mapXNetworkError(error, stage));
    throw error;
  }
  if (answer.status < 200 || answer.status >= 300) throw new XCallFailed(mapXError(answer, stage));
  return answer;
}

export function bearer(accessToken: string): Record<string, string> {
  return { Authorization: `Bearer ${accessToken}` };
}
