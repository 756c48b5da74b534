/** Small, self-contained HTML pages for the browser steps (connect links and OAuth callbacks). */
import type { Page } from '../core/ports/pages.js';

export type { Page };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderPage(page: Page): string {
  const ok = page.status < 400;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(page.title)} · IQSP</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d1f23; }
  main { max-width: 32rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 12px;
         box-shadow: 0 1px 3px rgba(0,0,0,.1); border-top: 6px solid ${ok ? '#1f9d55' : '#d64545'}; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(page.title)}</h1>
${page.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
</main>
</body>
</html>
`;
}
