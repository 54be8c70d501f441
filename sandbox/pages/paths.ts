// Where the pages and their static files live: one place, used by the routes, the views and the dashboard's links.

import type { PageLang } from "./i18n.js";

export const PAGE_KINDS = ["payment", "order"] as const;
export type PageKind = (typeof PAGE_KINDS)[number];

/** The static files the pages load; served by the pages' app. */
export const PAGE_ASSETS = {
  stylesheet: "/_assets/pages.css",
  script: "/_assets/pages.js",
  icon: "/_assets/icon.svg",
} as const;

/** `/{lang}/{kind}/{uid}/{secret}/`, the docs' page URL (with the trailing slash the engine's links carry). */
export function pagePath(kind: PageKind, lang: PageLang, uid: number, secret: string): string {
  return `/${lang}/${kind}/${uid}/${encodeURIComponent(secret)}/`;
}
