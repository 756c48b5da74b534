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
