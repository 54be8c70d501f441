// The order and delivery store's public face: one interface, kept in memory or with a journal in a data folder.

export type { DeliveryQuery, OrderQuery, Page, Store, StoreChange } from "./types.js";
export { StoreUnavailableError } from "./types.js";
export { createMemoryStore, deliveryNumber, type MemoryStoreOptions } from "./memory.js";
export { JOURNAL_FILE, openJournalStore, type JournalStore, type JournalStoreOptions, type RestoredState } from "./journal.js";
export { JournalError } from "./replay.js";
export { DELIVERY_OUTCOMES } from "./lines.js";
export { DataDirLockedError, LOCK_FILE } from "./lock.js";
export { nodeJournalFs, type JournalFs } from "./fs.js";
