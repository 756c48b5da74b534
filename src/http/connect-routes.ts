/**
 * `GET /connect/:token` and `GET /oauth/:platform/callback`: the browser half of connecting an
 * account. Opening a link gives the browser a cookie with the nonce its sign-in is bound to
 * (HttpOnly, SameSite=Lax so it comes back on the platform's redirect; Secure and `__Host-`
 * prefixed with an https PUBLIC_URL); the callback hands that cookie to the core, which refuses
 * a sign-in finished in another browser.
 */
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import { OAUTH_STATE_TTL_MS, type ConnectService } from '../core/connect.js';
import { renderPage, type PageLink } from './pages.js';

/** The cookie's name: `__Host-` makes browsers refuse it unless Secure, from this host, for Path=/. */
export function browserCookieName(https: boolean): string {
  return https ? '__Host-iqsp-connect' : 'iqsp-connect';
}

/**
 * Written as a header rather than through `ctx.cookies.set`, which refuses a Secure cookie on a
 * request it sees as plain HTTP (TLS ended at a proxy): the browser is on https all the same.
 */
function setBrowserCookie(ctx: RouterContext, https: boolean, nonce: string): void {
  const attributes = [
    `Path=/`,
    `Max-Age=${Math.floor(OAUTH_STATE_TTL_MS / 1000)}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(https ? ['Secure'] : []),
  ];
  ctx.append('Set-Cookie', `${browserCookieName(https)}=${nonce}; ${attributes.join('; ')}`);
}

/** `footer`: the links under every page (the privacy policy and terms). */
export function connectRoutes(connect: ConnectService, footer: readonly PageLink[] = []) {
  return (router: Router): void => {
    router.get('/connect/:token', async (ctx) => {
      const https = connect.httpsOnly;
      const via = typeof ctx.query.via === 'string' ? ctx.query.via : undefined;
      const outcome = await connect.openLink(String(ctx.params.token ?? ''), ctx.cookies.get(browserCookieName(https)), via);
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      if (outcome.kind === 'redirect') {
        setBrowserCookie(ctx, https, outcome.browserNonce);
        ctx.status = 302;
        ctx.redirect(outcome.url);
        return;
      }
      ctx.status = outcome.page.status;
      ctx.type = 'html';
      ctx.body = renderPage(outcome.page, footer);
    });

    router.get('/oauth/:platform/callback', async (ctx) => {
      const query: Record<string, string> = {};
      for (const [key, value] of Object.entries(ctx.query)) if (typeof value === 'string') query[key] = value;
      const page = await connect.finishCallback(
        String(ctx.params.platform ?? ''),
        query,
        ctx.cookies.get(browserCookieName(connect.httpsOnly)),
      );
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.status = page.status;
      ctx.type = 'html';
      ctx.body = renderPage(page, footer);
    });

    // Public documents a platform reads from IQSP (AT Protocol's client metadata and JWKS).
    router.get('/oauth/:platform/:document', (ctx) => {
      const document = connect.document(String(ctx.params.platform ?? ''), String(ctx.params.document ?? ''));
      if (document === undefined) return; // 404
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(document);
    });
  };
}
