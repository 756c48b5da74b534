/**
 * The sandbox has no sign-in, so it answers only the person at this machine, through the
 * sandbox page itself:
 * - the Host must be this machine (localhost, 127.0.0.1, ::1) or PUBLIC_URL's host, so a web
 *   page whose name was pointed at 127.0.0.1 (DNS rebinding) can neither read nor act;
 * - a request that changes something must not come from another origin: a browser says where a
 *   request comes from (`Sec-Fetch-Site`, `Origin`), and any page of another site, or of another
 *   port of this machine, is refused. Tools that send neither (curl, scripts) are let through:
 *   they are not a browser that a foreign page could drive.
 */
import type Koa from 'koa';

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type SandboxRequestVerdict = { allowed: true } | { allowed: false; reason: string };

export interface SandboxRequest {
  method: string;
  /** The Host header as received. */
  host: string;
  /** `http` or `https`, as this server sees the request. */
  protocol: string;
  origin: string | undefined;
  secFetchSite: string | undefined;
}

export function judgeSandboxRequest(request: SandboxRequest, publicUrl: string): SandboxRequestVerdict {
  const publicOrigin = new URL(publicUrl);
  const hostname = hostnameOf(request.host);
  if (hostname === undefined || (!LOOPBACK_HOSTNAMES.has(hostname) && hostname !== publicOrigin.hostname))
    return { allowed: false, reason: `the sandbox answers only at localhost or ${publicOrigin.host}` };
  if (READ_ONLY_METHODS.has(request.method)) return { allowed: true };
  if (request.secFetchSite !== undefined && request.secFetchSite !== 'same-origin')
    return { allowed: false, reason: 'the sandbox takes requests from its own page only' };
  const ownOrigins = new Set([publicOrigin.origin, `${request.protocol}://${request.host.toLowerCase()}`]);
  if (request.origin !== undefined && !ownOrigins.has(request.origin.toLowerCase()))
    return { allowed: false, reason: 'the sandbox takes requests from its own page only' };
  return { allowed: true };
}

/** Koa middleware for every sandbox route: 403 with the reason for a request it must not take. */
export function sandboxRequestGuard(publicUrl: string): Koa.Middleware {
  return async (ctx, next) => {
    const verdict = judgeSandboxRequest(
      {
        method: ctx.method,
        host: ctx.get('host'),
        protocol: ctx.protocol,
        origin: ctx.get('origin') || undefined,
        secFetchSite: ctx.get('sec-fetch-site') || undefined,
      },
      publicUrl,
    );
    if (!verdict.allowed) {
      ctx.status = 403;
      ctx.body = { error: verdict.reason };
      return;
    }
    await next();
  };
}

function hostnameOf(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}
