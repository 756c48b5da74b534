/** `GET /connect/:token` and `GET /oauth/:platform/callback`: the browser half of connecting an account. */
import type Router from '@koa/router';
import type { ConnectService } from '../core/connect.js';
import { renderPage } from './pages.js';

export function connectRoutes(connect: ConnectService) {
  return (router: Router): void => {
    router.get('/connect/:token', async (ctx) => {
      const outcome = await connect.openLink(String(ctx.params.token ?? ''));
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      if (outcome.kind === 'redirect') {
        ctx.status = 302;
        ctx.redirect(outcome.url);
        return;
      }
      ctx.status = outcome.page.status;
      ctx.type = 'html';
      ctx.body = renderPage(outcome.page);
    });

    router.get('/oauth/:platform/callback', async (ctx) => {
      const query: Record<string, string> = {};
      for (const [key, value] of Object.entries(ctx.query)) if (typeof value === 'string') query[key] = value;
      const page = await connect.finishCallback(String(ctx.params.platform ?? ''), query);
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.status = page.status;
      ctx.type = 'html';
      ctx.body = renderPage(page);
    });
  };
}
