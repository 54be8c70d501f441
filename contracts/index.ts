// The contract kit's public face: run the contracts against a merchant, list them, and report the verdicts.

export { runContracts, type ContractOptions } from "./run.js";
export { CHECKS } from "./checks/index.js";
export { CONTRACT_GROUPS, summarize, type CheckResult, type CheckSpec, type ContractGroup, type Learned, type Outcome, type PaidKey, type Report } from "./model.js";
export { formatReport, formatText, formatJson, formatJunit, formatCheckLine, formatCheckTable, requiredLabel, REPORTERS, type ReporterName } from "./report.js";
export { SetupError, UnreachableUrl } from "./errors.js";
export { browserWalkAvailable, findChromium, PLAYWRIGHT_MISSING } from "./browser.js";
