/**
 * What the three consent pages share: the choice a person makes (which account, which scopes,
 * which Pages), a small HTML page with Allow and Deny, and the redirect back to the app.
 *
 * Each simulator validates the consent request its own way and offers `approveConsent(url,
 * choice)`, which does in-process what clicking Allow does, so tests can follow the flow
 * without parsing HTML; browser tests click the real page.
 */
import { html, redirect, type SimRequest, type SimResponse } from './server.js';

/** A person's answer on a consent page. Everything is optional: the default grants all. */
export interface ConsentChoice {
  /** Which of the simulator's accounts is logged in: Meta user id, X user id, TikTok open_id. */
  account?: string | undefined;
  /** The scopes granted; defaults to every scope requested (TikTok lets people untick some). */
  scopes?: readonly string[] | undefined;
  /** Meta only: the Pages ticked in the dialog; defaults to all of the user's Pages. */
  pages?: readonly string[] | undefined;
}

/** A consent request the platform itself would refuse (wrong client, unregistered redirect, ...). */
export class ConsentRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsentRefused';
  }
}

export interface ConsentPageModel {
  platform: string;
  /** Where the form goes; carries `consent` plus the checked boxes. */
  allowAction: string;
  consentId: string;
  accounts: Array<{ value: string; label: string }>;
  /** Checkbox groups: Pages, scopes. All start checked. */
  groups: Array<{ name: string; title: string; options: Array<{ value: string; label: string }> }>;
  denyUrl: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function consentPage(model: ConsentPageModel): string {
  const accountSelect =
    model.accounts.length > 1
      ? `<label>Continue as <select name="account">${model.accounts.map((a) => `<option value="${escapeHtml(a.value)}">${escapeHtml(a.label)}</option>`).join('')}</select></label>`
      : `<p>Continue as <strong>${escapeHtml(model.accounts[0]?.label ?? '')}</strong></p><input type="hidden" name="account" value="${escapeHtml(model.accounts[0]?.value ?? '')}">`;
  const groups = model.groups
    .map(
      (group) =>
        `<fieldset><legend>${escapeHtml(group.title)}</legend><input type="hidden" name="${escapeHtml(group.name)}_present" value="1">${group.options
          .map(
            (o) =>
              `<label><input type="checkbox" name="${escapeHtml(group.name)}" value="${escapeHtml(o.value)}" checked> ${escapeHtml(o.label)}</label><br>`,
          )
          .join('')}</fieldset>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(model.platform)} (simulator): authorize IQSP</title></head>
<body>
<h1>${escapeHtml(model.platform)} simulator</h1>
<p>IQSP wants to publish on your behalf.</p>
<form method="get" action="${escapeHtml(model.allowAction)}">
<input type="hidden" name="consent" value="${escapeHtml(model.consentId)}">
${accountSelect}
${groups}
<button type="submit" id="allow">Allow</button>
<a id="deny" href="${escapeHtml(model.denyUrl)}">Deny</a>
</form>
</body></html>`;
}

export function errorPage(platform: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(platform)} (simulator): error</title></head><body><h1>${escapeHtml(platform)}</h1><p id="error">${escapeHtml(message)}</p></body></html>`;
}

/** The redirect back to the app: `redirect_uri` with the answer added to its query. */
export function callbackUrl(redirectUri: string, params: Record<string, string | undefined>, fragment?: string): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  if (fragment !== undefined) url.hash = fragment;
  return url.toString();
}

/** An absolute http(s) redirect URI without a fragment, as every platform requires. */
export function isValidRedirectUri(value: string | undefined): value is string {
  if (!value) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hash === '';
  } catch {
    return false;
  }
}

/** The scopes a choice grants out of those requested; unknown extras are ignored, as a page would. */
export function grantedScopes(requested: readonly string[], choice: ConsentChoice): string[] {
  if (!choice.scopes) return [...requested];
  const wanted = new Set(choice.scopes);
  return requested.filter((scope) => wanted.has(scope));
}

/** The pending consents shown as pages, by id; each can be answered once. */
export class PendingConsents<T> {
  private readonly pending = new Map<string, T>();
  private next = 1;

  add(request: T): string {
    const id = `consent-${this.next}`;
    this.next += 1;
    this.pending.set(id, request);
    return id;
  }

  take(id: string | undefined): T | undefined {
    if (id === undefined) return undefined;
    const request = this.pending.get(id);
    this.pending.delete(id);
    return request;
  }
}

/**
 * The choice from the HTML form's query (the Allow submission). A group's hidden `*_present`
 * marker tells "every box unticked" apart from "this page had no such boxes".
 */
export function choiceFromForm(searchParams: URLSearchParams): ConsentChoice {
  return {
    account: searchParams.get('account') ?? undefined,
    scopes: searchParams.has('scope_present') ? searchParams.getAll('scope') : undefined,
    pages: searchParams.has('page_present') ? searchParams.getAll('page') : undefined,
  };
}

/**
 * The consent page's Allow button (the same on every platform): take the pending request, let
 * the platform mint the code, and redirect to the app's callback; an expired request or a
 * choice the platform refuses answers its error page.
 */
export function allowConsent<T>(
  platform: string,
  pending: PendingConsents<T>,
  request: SimRequest,
  expiredMessage: string,
  allow: (params: T, choice: ConsentChoice) => string,
): SimResponse {
  const params = pending.take(request.query.consent);
  if (!params) return html(400, errorPage(platform, expiredMessage));
  try {
    return redirect(allow(params, choiceFromForm(request.searchParams)));
  } catch (error) {
    return html(400, errorPage(platform, error instanceof Error ? error.message : String(error)));
  }
}
