// Guards /_sandbox/*: the admin token of an exposed sandbox (Bearer header or dashboard cookie) and cross-site writes.

import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { safeEqual } from "../secure.js";
import { CONTROL_BASE_PATH, isControlPath } from "./index.js";

/** The dashboard's session cookie, set by opening /_sandbox/?token=TOKEN once. */
export const ADMIN_COOKIE = "sandbox_admin";
export const MIN_ADMIN_TOKEN_LENGTH = 12;

/** Throws a message that says how to fix an admin token that is too short or cannot travel in a header. */
export function assertAdminToken(token: unknown): asserts token is string {
  if (typeof token !== "string" || !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error("adminToken must be printable ASCII without spaces, e.g. the output of: openssl rand -hex 24");
  }
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || token.length > 512) {
    throw new Error(`adminToken must be ${MIN_ADMIN_TOKEN_LENGTH} to 512 characters long, got ${token.length}; e.g. the output of: openssl rand -hex 24`);
  }
}

const UNAUTHORIZED =
  "The control API needs the admin token: send the header Authorization: Bearer <token>, " +
  `or open ${CONTROL_BASE_PATH}/?token=<token> once in a browser for the dashboard`;

/** The small page that answers /_sandbox/?token=…: it has set the cookie and moves on without the token in the URL. */
const SIGNED_IN_PAGE =
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${CONTROL_BASE_PATH}/">` +
  `<title>exchanger-sandbox</title></head><body><p><a href="${CONTROL_BASE_PATH}/">Open the dashboard</a></p></body></html>`;

/**
 * Lets a /_sandbox request through only with the admin token: `Authorization: Bearer TOKEN`, or the dashboard cookie
 * that `GET /_sandbox/?token=TOKEN` sets (HttpOnly, SameSite=Strict, a hash of the token rather than the token).
 * Every comparison is constant-time. Anything else gets 401 JSON. Requests outside /_sandbox pass untouched.
 */
export function adminTokenGuard(token: string): MiddlewareHandler {
  assertAdminToken(token);
  const cookieValue = createHash("sha256").update(`exchanger-sandbox dashboard:${token}`).digest("hex");
  return async (c, next) => {
    const path = c.req.path;
    if (!isControlPath(path)) return next();
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (bearer !== undefined && safeEqual(bearer, token)) return next();
    const cookie = getCookie(c, ADMIN_COOKIE);
    if (cookie !== undefined && safeEqual(cookie, cookieValue)) return next();
    const given = c.req.query("token");
    const dashboard = path === CONTROL_BASE_PATH || path === `${CONTROL_BASE_PATH}/`;
    if (given !== undefined && dashboard && c.req.method === "GET" && safeEqual(given, token)) {
      setCookie(c, ADMIN_COOKIE, cookieValue, { path: CONTROL_BASE_PATH, httpOnly: true, sameSite: "Strict" });
      noLeaks(c);
      c.header("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'");
      return c.html(SIGNED_IN_PAGE);
    }
    noLeaks(c);
    c.header("WWW-Authenticate", 'Bearer realm="exchanger-sandbox control API"');
    return c.json({ error: { type: "unauthorized", message: UNAUTHORIZED } }, 401);
  };
}

/**
 * Refuses a browser's cross-site write to /_sandbox/* (a page on another site, or on another port of this host, that
 * posts a simple form or no-cors fetch): browsers label such requests with Sec-Fetch-Site. The dashboard's own calls
 * are same-origin, and scripts and CI jobs send no such header, so neither is affected.
 */
export function crossSiteGuard(): MiddlewareHandler {
  return async (c, next) => {
    if (!isControlPath(c.req.path) || ["GET", "HEAD", "OPTIONS"].includes(c.req.method)) return next();
    const site = c.req.header("sec-fetch-site");
    if (site === undefined || site === "same-origin" || site === "none") return next();
    noLeaks(c);
    return c.json(
      { error: { type: "forbidden", message: `A browser request from another site (Sec-Fetch-Site: ${site}) may not change the sandbox; use the dashboard or call the control API from a script` } },
      403,
    );
  };
}

function noLeaks(c: Context): void {
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
}
