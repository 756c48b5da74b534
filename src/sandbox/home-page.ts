/**
 * /sandbox/home: the App Home a Slack workspace sees (its upcoming posts and latest outcomes),
 * drawn in the sandbox so it can be tried and pictured without Slack. The page is the very
 * Block Kit view the Slack app publishes (src/bots/slack/home.ts) drawn as HTML (see
 * block-kit-html.ts), styled like Slack's Home tab.
 */
import { homeView } from '../bots/slack/home.js';
import type { HomeView } from '../core/inbound.js';
import { escapeHtml } from '../http/pages.js';
import { blocksHtml, type HomeBlock } from './block-kit-html.js';

const STYLE = `
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.46668 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1d1c1d; background: #fff; }
  .bar { background: #3f0e40; color: #fff; padding: .55rem 1.25rem; font-weight: 700; display: flex; gap: 1.5rem; align-items: baseline; }
  .bar .tab { font-weight: 400; opacity: .75; font-size: .9rem; }
  .bar .tab.on { opacity: 1; border-bottom: 2px solid #fff; }
  .home { max-width: 46rem; padding: 1rem 1.25rem 2rem; }
  h2.header { font-size: 1.15rem; font-weight: 900; margin: 1.1rem 0 .5rem; }
  .section { margin: .45rem 0; }
  .section .fields { display: grid; grid-template-columns: 1fr 1fr; gap: .15rem 1rem; margin-top: .2rem; }
  .context { font-size: .8rem; color: #616061; margin: .2rem 0 .5rem; }
  .context span + span::before { content: ' · '; }
  hr.divider { border: 0; border-top: 1px solid #ddd; margin: .8rem 0; }
  blockquote { margin: .15rem 0 0; padding-left: .7rem; border-left: 4px solid #ddd; color: #454245; }
  code { font: 12px/1.5 Menlo, Consolas, monospace; background: #f6f6f6; border: 1px solid #e3e3e3; border-radius: 3px; padding: 0 .2rem; color: #e01e5a; }
`;

/** The Home view as a page: the blocks Slack would show, under a bar that names the app. */
export function homePage(view: HomeView, blocks: readonly HomeBlock[] = homeView(view).blocks): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IQSP · Home</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<div class="bar">IQSP <span class="tab on">Home</span><span class="tab">Messages</span><span class="tab">About</span></div>
<main class="home" aria-label="${escapeHtml('App Home')}">
${blocksHtml(blocks)}
</main>
</body>
</html>
`;
}
