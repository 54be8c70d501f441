// The scenario engine's public face: the model, the built-in library, loading, playing, running and reporting.

export { defineScenario, parseScenario, parseDuration, ScenarioError, EXPECTATIONS, WAIT_EVENTS, type Scenario, type Step, type Expectation, type Duration } from "./model.js";
export { BUILTIN_SCENARIOS, findBuiltinScenario } from "./library.js";
export { loadScenarioFile, resolveScenarios, looksLikePath } from "./load.js";
export { playScenario, judge, type Transcript, type TranscriptEvent, type ScenarioDriver, type PlayMode } from "./player.js";
export { createLocalDriver, createHttpDriver } from "./drivers.js";
export { runScenarios, RUN_EPOCH, DEFAULT_RUN_SANDBOX_PORT, type RunOptions } from "./run.js";
export { checkoutOrderProblem, type CheckoutSpec, type CheckoutOrder } from "./checkout.js";
export { scenarioDirector, scenarioFromOrder, type DirectorOptions } from "./director.js";
export { formatTranscriptText, formatTranscriptJson, formatOffset, formatSeedLine } from "./transcript.js";
