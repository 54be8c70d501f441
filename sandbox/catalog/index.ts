// The route catalogue's public face: its types, the built-in catalogue, address formats and the file loader.

import type { Catalog, Currency, Route } from "./types.js";

export type { Catalog, Currency, Network, Route, RouteField } from "./types.js";
export { createDefaultCatalog } from "./default.js";
export { ADDRESS_HINTS, ADDRESS_PATTERNS, NETWORKS, generateAddress } from "./address.js";
export { CatalogError, loadCatalogFile, parseCatalog } from "./load.js";

/** The route with this `_id` (a routeId from order/create), or undefined. */
export function findRoute(catalog: Catalog, id: string): Route | undefined {
  return catalog.routes.find((route) => route._id === id);
}

/** Every currency the catalogue mentions, once per `_id`, in order of first appearance. */
export function listCurrencies(catalog: Catalog): Currency[] {
  const byId = new Map<string, Currency>();
  for (const route of catalog.routes) {
    for (const currency of [route.from, route.to]) {
      if (!byId.has(currency._id)) byId.set(currency._id, currency);
    }
  }
  return [...byId.values()];
}
