/**
 * Meta's wire shapes for the Graph simulator: the error envelope with the codes and messages
 * Meta really sends (platform-apis.md §1.7, §2.6), and `fields=` selection, which refuses a
 * field the node type does not have exactly as the Graph API does, so a publisher asking for
 * a wrong field fails here as it would in production.
 */
import { fbtraceId } from './ids.js';
import { json, type SimResponse } from './server.js';

export interface GraphErrorBody {
  message: string;
  type?: string;
  code: number;
  error_subcode?: number;
  error_user_title?: string;
  error_user_msg?: string;
  is_transient?: boolean;
}

/** `{"error":{message,type,code,error_subcode,fbtrace_id}}`; OAuth errors also carry WWW-Authenticate. */
export function graphError(status: number, error: GraphErrorBody, headers: Record<string, string> = {}): SimResponse {
  const body = { error: { ...error, type: error.type ?? 'OAuthException', fbtrace_id: fbtraceId() } };
  const extra: Record<string, string> =
    error.code === 190 ? { 'www-authenticate': `OAuth "Facebook Platform" "invalid_token" "${error.message}"`, ...headers } : headers;
  return json(status, body, extra);
}

export const META_ERRORS = {
  missingToken: (): SimResponse =>
    graphError(400, { message: 'An active access token must be used to query information about the current user.', code: 2500 }),
  unparsableToken: (): SimResponse => graphError(400, { message: 'Invalid OAuth access token - Cannot parse access token', code: 190 }),
  expired: (expiredAt: Date): SimResponse =>
    graphError(400, {
      message: `Error validating access token: Session has expired on ${expiredAt.toUTCString()}. The current time is ${new Date().toUTCString()}.`,
      code: 190,
      error_subcode: 463,
    }),
  notAuthorized: (appId: string): SimResponse =>
    graphError(400, {
      message: `Error validating access token: The user has not authorized application ${appId}.`,
      code: 190,
      error_subcode: 458,
    }),
  invalidated: (subcode: number): SimResponse =>
    graphError(400, {
      message:
        subcode === 460
          ? 'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.'
          : 'Error validating access token: The session is invalid because the user logged out.',
      code: 190,
      error_subcode: subcode,
    }),
  proofMissing: (): SimResponse =>
    graphError(400, { message: 'API calls from the server require an appsecret_proof argument', type: 'GraphMethodException', code: 100 }),
  proofInvalid: (): SimResponse =>
    graphError(400, { message: 'Invalid appsecret_proof provided in the API argument', type: 'GraphMethodException', code: 100 }),
  unsupported: (method: string, id: string): SimResponse =>
    graphError(400, {
      message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      type: 'GraphMethodException',
      code: 100,
      error_subcode: 33,
    }),
  unknownPath: (path: string): SimResponse => graphError(400, { message: `Unknown path components: ${path}`, code: 2500 }),
  parameter: (message: string, subcode?: number, user?: { title: string; msg: string }): SimResponse =>
    graphError(400, {
      message: message.startsWith('(#') ? message : `(#100) ${message}`,
      code: 100,
      ...(subcode !== undefined ? { error_subcode: subcode } : {}),
      ...(user ? { error_user_title: user.title, error_user_msg: user.msg } : {}),
    }),
  permission: (message: string): SimResponse => graphError(403, { message: `(#200) ${message}`, code: 200 }),
  appPermission: (): SimResponse => graphError(403, { message: '(#10) Application does not have permission for this action', code: 10 }),
};

/** A Graph node as the simulator holds it: every field it could answer, by name. */
export interface GraphNode {
  /** The Graph type name, as it appears in "... on node type (Page)". */
  type: string;
  fields: Record<string, unknown>;
  /** Fields returned when the request names none. */
  defaults: readonly string[];
}

/**
 * The top-level names of a `fields=` parameter: `id,name,picture.type(large){url},tasks`
 * names id, name, picture and tasks. Modifiers and nested selections are accepted and the
 * whole value is returned, which is what IQSP's readers expect.
 */
export function fieldNames(param: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of param) {
    if (char === '{' || char === '(') depth += 1;
    if (char === '}' || char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      names.push(current);
      current = '';
    } else current += char;
  }
  names.push(current);
  return names.map((n) => /^[a-z_0-9]+/i.exec(n.trim())?.[0] ?? '').filter((n) => n !== '');
}

/** The requested fields of a node (always with `id`), or Meta's error for a field the type lacks. */
export function selectFields(
  node: GraphNode,
  fieldsParam: string | undefined,
): { ok: true; value: Record<string, unknown> } | { ok: false; response: SimResponse } {
  const names = fieldsParam === undefined || fieldsParam.trim() === '' ? [...node.defaults] : fieldNames(fieldsParam);
  const value: Record<string, unknown> = {};
  for (const name of names) {
    if (!(name in node.fields))
      return {
        ok: false,
        response: graphError(400, { message: `(#100) Tried accessing nonexisting field (${name}) on node type (${node.type})`, code: 100 }),
      };
    const field = node.fields[name];
    if (field !== undefined) value[name] = field;
  }
  if ('id' in node.fields) value.id = node.fields.id;
  return { ok: true, value };
}

/** Graph's timestamps: 2026-09-01T12:00:00+0000. */
export function graphTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+0000');
}
