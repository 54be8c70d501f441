// Shared test inputs: the docs' example IPN (whose hash is the docs' golden vector) and a catalogue that lets markup in.

import { createDefaultCatalog, type Catalog, type IpnFields } from "../../sandbox/index.js";

export const DOCS_SECRET = "SECRET123";
export const GOLDEN_HASH = "af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48";

/** The docs' example IPN, as one valid input that a test breaks in one place. */
export function docsIpnFields(overrides: Partial<IpnFields> = {}): IpnFields {
  return {
    orderUID: "1409",
    orderId: "5d8e6002b80b7b4cd75a6424",
    newStatus: "inProgress",
    inAmount: "2",
    outAmount: "317.42",
    xml_from: "ETH",
    xml_to: "WMZ",
    timestamp: "1571328406072",
    toValues: [{ key: "5d8e6002b80b7b4cd75a6401", name: "Wallet", value: "Z123456789012" }],
    ...overrides,
  };
}

export const SCRIPT = "<script>alert(1)</script>";
/** The `_id` of the free-text recipient field `catalogWithFreeText` adds. */
export const FREE_TEXT_FIELD = "0123456789abcdef01234567";

/** The default catalogue, with a free-text recipient field on the manual CARDUAH route so markup can get through. */
export function catalogWithFreeText(fieldName = "Note"): Catalog {
  const base = createDefaultCatalog(1);
  return {
    routes: base.routes.map((r) =>
      r.manual && r.from.xml === "CARDUAH"
        ? {
            ...r,
            toFields: [
              ...r.toFields,
              { _id: FREE_TEXT_FIELD, name: fieldName, placeholder: "any text", regexp: "^.{1,200}$", regexp_error: "any text", required: false },
            ],
          }
        : r,
    ),
  };
}
