/**
 * How an account is named in every message (contract.md §5): the platform's name and the
 * account — `X @acme`, or the Page name where there is no handle (`Facebook Acme Inc`).
 */
export function accountLabel(
  platformName: string,
  account: { handle?: string | null | undefined; displayName?: string | null | undefined; display_name?: string | null },
): string {
  if (account.handle) return `${platformName} @${account.handle}`;
  return `${platformName} ${account.displayName ?? account.display_name ?? 'account'}`;
}

/**
 * The names `@name` in `<targets>` matches for an account: its handle and its platform id, and,
 * for an account with no handle (a Facebook Page), its name without spaces (`@AcmeInc`).
 */
export function targetNames(account: { handle: string | null; platform_account_id: string; display_name: string | null }): string[] {
  const names = [account.platform_account_id];
  if (account.handle) names.unshift(account.handle);
  else if (account.display_name) names.unshift(account.display_name.replace(/\s+/g, ''));
  return names;
}

/** How to name `account` so that it alone of `among` matches: `@handle`, `@AcmeInc`, or its platform id. */
export function targetMention(
  account: { handle: string | null; platform_account_id: string; display_name: string | null },
  among: ReadonlyArray<{ handle: string | null; platform_account_id: string; display_name: string | null }>,
): string {
  const unique = targetNames(account).find(
    (name) => among.filter((a) => targetNames(a).some((n) => n.toLowerCase() === name.toLowerCase())).length === 1,
  );
  return `@${unique ?? account.platform_account_id}`;
}
