/** Small, self-contained HTML pages for the browser steps (connect links and OAuth callbacks). */
import type { Page, PageLink } from '../core/ports/pages.js';

export type { Page, PageLink };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The page as HTML; `footer`: links shown under it (the privacy policy and terms). Every text is escaped. */
export function renderPage(page: Page, footer: readonly PageLink[] = []): string {
  const ok = page.status < 400;
  const sections = (page.sections ?? []).map(
    (section) => `<h2>${escapeHtml(section.heading)}</h2>\n${section.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}`,
  );
  const links = footer.map((link) => `<a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a>`);
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
  main.long { max-width: 44rem; margin-top: 4vh; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  footer { max-width: 32rem; margin: 0 auto 3rem; text-align: center; font-size: .9rem; color: #5b616e; }
  footer a { color: inherit; margin: 0 .5rem; }
</style>
</head>
<body>
<main${sections.length > 0 ? ' class="long"' : ''}>
<h1>${escapeHtml(page.title)}</h1>
${[...page.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`), ...sections].join('\n')}
</main>
${links.length > 0 ? `<footer>${links.join(' · ')}</footer>\n` : ''}</body>
</html>
`;
}
