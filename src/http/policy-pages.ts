/**
 * `GET /privacy` and `GET /terms` (issue 20): the privacy policy and terms of service of this
 * install, written for this product and built from its configuration, so each statement is true
 * of the code it runs (the platforms enabled, the media retention, the schedule horizon, HTTPS,
 * the webhook), and `GET /data-deletion/:code`, the status of a platform's data deletion request.
 * Where the operator has their own (`PRIVACY_POLICY_URL`, `TERMS_URL`), the routes redirect there.
 */
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { PlatformNotices } from '../core/platform-notices.js';
import type { Page, PageLink, PageSection } from '../core/ports/pages.js';
import { readBodyLimited } from './body.js';
import { renderPage } from './pages.js';

/** The date the texts below last changed in substance; shown at the top of both pages. */
export const POLICY_VERSION_DATE = '2026-12-04';

/** What the pages say, from the configuration and the code: nothing in them is written by hand per install. */
export interface PolicyFacts {
  publicUrl: string;
  operatorName: string | undefined;
  operatorContact: string | undefined;
  /** What IQSP publishes to here ("Facebook Pages", "X", ...), enabled platforms only. */
  platforms: readonly string[];
  /** Every platform this code base can publish to, enabled here or not. */
  allPlatforms: readonly string[];
  mediaTtlHours: number;
  scheduleMaxDays: number;
  approvalTtlHours: number;
  /** Days a workspace's data is kept after IQSP is removed from it. */
  removedWorkspaceRetentionDays: number;
  /** WEBHOOK_URL is set: post outcomes also go to the operator's own address. */
  webhook: boolean;
  /** The names of the platforms whose own removal of the app deletes a person's accounts here (Meta's callbacks). */
  platformDeletion: readonly string[];
  privacyUrl: string | undefined;
  termsUrl: string | undefined;
}

/** Where people find the policies: the operator's own, or this install's pages. */
export function policyLinks(facts: Pick<PolicyFacts, 'publicUrl' | 'privacyUrl' | 'termsUrl'>): { privacy: string; terms: string } {
  return { privacy: facts.privacyUrl ?? `${facts.publicUrl}/privacy`, terms: facts.termsUrl ?? `${facts.publicUrl}/terms` };
}

/** The links at the foot of every page this install shows in a browser. */
export function policyFooter(facts: Pick<PolicyFacts, 'publicUrl' | 'privacyUrl' | 'termsUrl'>): PageLink[] {
  const links = policyLinks(facts);
  return [
    { label: 'Privacy policy', href: links.privacy },
    { label: 'Terms of service', href: links.terms },
  ];
}

function listed(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function host(facts: PolicyFacts): string {
  return new URL(facts.publicUrl).host;
}

function operatorSentence(facts: PolicyFacts): string {
  const who = facts.operatorName ?? `the operator of ${host(facts)} (who has not set OPERATOR_NAME)`;
  const contact = facts.operatorContact ? ` You can reach them at ${facts.operatorContact}.` : '';
  return `This install of IQSP, at ${facts.publicUrl}, is run by ${who}, who is responsible for it and for this policy.${contact}`;
}

function contactSentence(facts: PolicyFacts): string {
  return facts.operatorContact
    ? `Questions, requests and complaints: ${facts.operatorContact}.`
    : `Questions, requests and complaints: ask the person who runs IQSP in your workspace (the operator has not set OPERATOR_CONTACT).`;
}

function changesSection(): PageSection {
  return {
    heading: 'Changes',
    paragraphs: [
      `This version is dated ${POLICY_VERSION_DATE}. When it changes, the new text is published at this address with its date before it takes effect, and the operator announces the change in the workspaces that use this install.`,
    ],
  };
}

/** The privacy policy: who, what is stored and why, for how long, who receives it, and a person's rights. */
export function privacyPolicy(facts: PolicyFacts): Page {
  const platforms = facts.platforms.length > 0 ? listed(facts.platforms) : 'no platform yet (none is configured)';
  const https = facts.publicUrl.startsWith('https://');
  return {
    status: 200,
    title: 'Privacy policy',
    paragraphs: [`Effective ${POLICY_VERSION_DATE}.`, operatorSentence(facts)],
    sections: [
      {
        heading: 'What IQSP does',
        paragraphs: [
          `IQSP lets a team publish to social platforms from Slack and Discord: a person asks for a post in chat, the approvals their workspace requires are given (a workspace may require none), and IQSP publishes it to the accounts chosen. Here it publishes to ${platforms}.`,
        ],
      },
      {
        heading: 'Signing in: OAuth, never a password',
        paragraphs: [
          "You connect a social account through that platform's own OAuth sign-in page. IQSP never asks for, sees or stores your password, on any platform.",
          'The access tokens a platform gives IQSP are stored encrypted with AES-256-CBC and authenticated with HMAC-SHA256 (encrypt-then-MAC), under a key only this install holds. They are never shown in chat, logs or exports.',
        ],
      },
      {
        heading: 'What is stored, and for how long',
        paragraphs: [
          'Your chat identity (the chat, workspace and user id, and your name) and your settings, such as your time zone.',
          'The accounts you connect: their profile (id, handle, name, picture address), their encrypted tokens and when those expire.',
          `Your posts: their text, targets, schedule and the result on each platform, with the approvals given (who, what and when). A request nobody decides expires after ${facts.approvalTtlHours} hours, or, when it is scheduled, at its time (at most ${facts.scheduleMaxDays} days ahead).`,
          `Media (images and videos) only until every target of its post is published or final, and never more than ${facts.mediaTtlHours} hours; for a scheduled post, at most ${facts.mediaTtlHours} hours after its time, which is at most ${facts.scheduleMaxDays} days ahead. A cleanup job then deletes the files.`,
          'An audit log of what happened (connections, approvals, publishing, deletions), with ids and counts, not your content.',
          `The rest is kept until you delete it (below). When IQSP is removed from a workspace, that workspace's data is deleted ${facts.removedWorkspaceRetentionDays} days later.`,
        ],
      },
      {
        heading: 'Who receives your data',
        paragraphs: [
          `A post goes only to the platforms and accounts you chose, and what IQSP says about it goes only to the chat it came from. Nothing is sold or shared with anyone else.${
            facts.webhook ? ' The operator also receives each post’s outcomes at an address of their own (never a token).' : ''
          }`,
        ],
      },
      {
        heading: 'Your data, your choice',
        paragraphs: [
          '`disconnect` removes a connected account: IQSP revokes its access at the platform where the platform allows it and deletes its tokens at once.',
          '`data` sends you, privately, one JSON file with everything IQSP stores about you. `delete-my-data` deletes it all: your accounts (revoked and deleted), posts, media, approvals and profile; what remains is an audit entry with no personal data.',
          ...(facts.platformDeletion.length > 0
            ? [
                `Removing IQSP in your ${listed(facts.platformDeletion)} settings, or asking ${listed(facts.platformDeletion)} to delete your data, deletes the accounts you connected through that login and their tokens here at once; ${listed(facts.platformDeletion)} gives you a confirmation code and a page showing when it was done.`,
              ]
            : []),
        ],
      },
      {
        heading: 'Security',
        paragraphs: [
          https
            ? `IQSP is served over HTTPS only (${host(facts)}), and browsers are told to use nothing else.`
            : `This install answers over plain HTTP at ${host(facts)}, which is only fit for trying IQSP on one machine; an install for real accounts is served over HTTPS.`,
        ],
      },
      { heading: 'Age', paragraphs: ['IQSP is not for people under 18.'] },
      changesSection(),
      { heading: 'Contact', paragraphs: [contactSentence(facts)] },
    ],
  };
}

/** The terms of service: what the service is, what a user agrees to, and what the operator does not promise. */
export function termsOfService(facts: PolicyFacts): Page {
  return {
    status: 200,
    title: 'Terms of service',
    paragraphs: [`Effective ${POLICY_VERSION_DATE}.`, operatorSentence(facts)],
    sections: [
      {
        heading: 'The service',
        paragraphs: [
          `IQSP publishes posts asked for in Slack or Discord, once the approvals your workspace requires are given (a workspace may require none), to social accounts you connect${
            facts.platforms.length > 0 ? ` (here: ${listed(facts.platforms)})` : ''
          }. It is open-source software; this install is provided by its operator.`,
        ],
      },
      {
        heading: 'Your part',
        paragraphs: [
          'You connect only accounts you are allowed to publish to, and publish only what you have the right to publish.',
          `You follow the rules of each platform you publish to (${listed(facts.allPlatforms)}) and of your chat workspace.`,
          'You keep your chat account and your connected accounts safe; a post approved in your workspace is published as approved.',
          'You must be 18 or older to use IQSP.',
        ],
      },
      {
        heading: 'What IQSP does with your content',
        paragraphs: [
          `Your posts stay yours. IQSP handles them only to publish them where you asked and to report the result, as the privacy policy (${policyLinks(facts).privacy}) describes.`,
        ],
      },
      {
        heading: 'No warranty',
        paragraphs: [
          'The service is provided as is. Platforms may refuse, delay or remove posts, and change their rules; IQSP reports what they answer but cannot promise a result. The operator may suspend or end the service, and you may stop using it at any time with `delete-my-data`.',
        ],
      },
      changesSection(),
      { heading: 'Contact', paragraphs: [contactSentence(facts)] },
    ],
  };
}

/** The routes: the two policies (or redirects to the operator's own), Meta-style platform callbacks and the deletion status page. */
export function policyRoutes(facts: PolicyFacts, notices: PlatformNotices) {
  const footer = policyFooter(facts);
  const html = (ctx: RouterContext, page: Page) => {
    ctx.status = page.status;
    ctx.type = 'html';
    ctx.body = renderPage(page, footer);
  };
  return (router: Router): void => {
    router.get('/privacy', (ctx) => (facts.privacyUrl ? ctx.redirect(facts.privacyUrl) : html(ctx, privacyPolicy(facts))));
    router.get('/terms', (ctx) => (facts.termsUrl ? ctx.redirect(facts.termsUrl) : html(ctx, termsOfService(facts))));

    router.get('/data-deletion/:code', async (ctx) => {
      const page = await notices.statusPage(String(ctx.params.code ?? ''));
      ctx.set('Cache-Control', 'no-store');
      html(
        ctx,
        page ?? { status: 404, title: 'No such data deletion request', paragraphs: ['Check the confirmation code you were given.'] },
      );
    });

    // A platform's own requests about a person (Meta's data deletion and deauthorize callbacks): a form with a signed request.
    router.post('/oauth/:platform/:notice', async (ctx) => {
      const raw = (await readBodyLimited(ctx.req, 64 * 1024)).toString('utf8');
      const form = Object.fromEntries(new URLSearchParams(raw));
      const outcome = await notices.receive(String(ctx.params.platform ?? ''), String(ctx.params.notice ?? ''), form);
      ctx.set('Cache-Control', 'no-store');
      switch (outcome.kind) {
        case 'not-found':
          ctx.status = 404;
          ctx.body = { error: 'not found' };
          return;
        case 'refused':
          ctx.status = 400;
          ctx.body = { error: `refused: ${outcome.reason}; nothing was done` };
          return;
        case 'erased':
          ctx.body = { url: outcome.url, confirmation_code: outcome.confirmationCode };
          return;
        case 'deauthorized':
          ctx.body = { ok: true };
      }
    });
  };
}
