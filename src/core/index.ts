/** The pure core: JWTs and the clock in, import diagnoses out. No I/O, no timers. */
export { AccountDirectory, OperatorTrust, type AccountEntry, type AccountProblem } from "./directory.js";
export {
  evaluate,
  evaluateImport,
  DEFAULT_EXPIRY_WARNING_SECONDS,
  type EvaluationOptions,
  type Finding,
} from "./evaluate.js";
export { accountErrors, diagnose, diagnoseAll, summarize, type AccountError, type CheckSummary } from "./report.js";
export { CAUSES, causeOf, type Cause, type CauseContext } from "./causes/index.js";
export * from "./diagnosis.js";
export { decodeJwt, type DecodeResult } from "./jwt/decode.js";
export { parseAccount, parseActivation, parseOperator } from "./jwt/claims.js";
export { isSubsetMatch, isContainedIn, isValidSubject } from "./subject.js";
export { CURRENT_RULES, rulesFor, type ServerRules } from "./validate.js";
export { rulesForLoaded } from "./push-refusal.js";
export { preflight, type PreflightOutcome, type PreflightResult } from "./whatif/preflight.js";
export { rotation, type RotationOutcome, type RotationRequest, type RotationResult } from "./whatif/rotation.js";
export { type PredictedChange } from "./whatif/changes.js";
export { expiringTokens, DEFAULT_EXPIRING_DAYS, type ExpiringToken } from "./audit/expiring.js";
export { orphanedExports, type OrphanedExport, type OrphanedReport } from "./audit/orphaned.js";
