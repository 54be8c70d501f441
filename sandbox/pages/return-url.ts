// The "Return to site" link: the merchant's clientCallbackUrl with status=success or status=error added to its query.

/**
 * Adds `status=<outcome>` to the merchant's URL the way the docs describe (`?status=success`), joined with `?` or
 * `&` as the URL needs and kept in front of any `#fragment`. The rest of the URL is left exactly as the merchant
 * wrote it (no re-encoding of its query), so their own parameters arrive as they sent them.
 * Returns null for anything but an absolute http(s) URL, so a link can never carry a `javascript:` URL.
 */
export function returnToSiteUrl(clientCallbackUrl: string, outcome: "success" | "error"): string | null {
  if (!/^https?:\/\//i.test(clientCallbackUrl)) return null;
  const hashAt = clientCallbackUrl.indexOf("#");
  const base = hashAt === -1 ? clientCallbackUrl : clientCallbackUrl.slice(0, hashAt);
  const fragment = hashAt === -1 ? "" : clientCallbackUrl.slice(hashAt);
  const joiner = !base.includes("?") ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&";
  return `${base}${joiner}status=${outcome}${fragment}`;
}
