// The contract kit's public face: run the contracts against a merchant, and report the verdicts.

export { runContracts, type ContractOptions } from "./run.js";
export { CONTRACT_GROUPS, summarize, type CheckResult, type ContractGroup, type Outcome, type Report } from "./model.js";
export { formatReport, formatText, formatJson, formatJunit, formatCheckLine, REPORTERS, type ReporterName } from "./report.js";
export { SetupError } from "./clients.js";
export { browserWalkAvailable, findChromium, PLAYWRIGHT_MISSING } from "./browser.js";
