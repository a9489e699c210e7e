/** The registry of causes: one module each, looked up by code. */
import type { CauseCode } from "../diagnosis.js";
import type { Cause } from "./cause.js";
import { accountExpired } from "./account-expired.js";
import { accountJwtInvalid } from "./account-jwt-invalid.js";
import { accountTokenPositionMismatch } from "./account-token-position-mismatch.js";
import { activationExpired } from "./activation-expired.js";
import { activationExpiringSoon } from "./activation-expiring-soon.js";
import { activationInvalid } from "./activation-invalid.js";
import { activationNotYetValid } from "./activation-not-yet-valid.js";
import { activationRevoked } from "./activation-revoked.js";
import { activationSignerUntrusted } from "./activation-signer-untrusted.js";
import { duplicateImport } from "./duplicate-import.js";
import { duplicateOfCycleImport } from "./duplicate-of-cycle-import.js";
import { exportNotFound } from "./export-not-found.js";
import { exportsOverlap } from "./exports-overlap.js";
import { exportTypeMismatch } from "./export-type-mismatch.js";
import { importCycle } from "./import-cycle.js";
import { cycleSearchRefused } from "./cycle-search-refused.js";
import { importInvalid } from "./import-invalid.js";
import { jetStreamImportsIncomplete } from "./jetstream-imports-incomplete.js";
import { missingActivationToken } from "./missing-activation-token.js";
import { pushRejected } from "./push-rejected.js";
import { serverStateStale } from "./server-state-stale.js";
import { sourceAccountExpired } from "./source-account-expired.js";
import { sourceAccountNotFound } from "./source-account-not-found.js";
import { subjectMismatch } from "./subject-mismatch.js";
import { localSubjectMapped } from "./local-subject-mapped.js";
import { localSubjectPartlyMapped } from "./local-subject-partly-mapped.js";
import { localSubjectMappingsOverlap } from "./local-subject-mappings-overlap.js";
import { repliesMapped } from "./replies-mapped.js";
import { repliesPartlyMapped } from "./replies-partly-mapped.js";
import { repliesMappingsOverlap } from "./replies-mappings-overlap.js";

export type { Cause, CauseContext } from "./cause.js";

const ALL: Cause[] = [
  missingActivationToken,
  activationInvalid,
  activationSignerUntrusted,
  activationNotYetValid,
  activationExpired,
  activationRevoked,
  activationExpiringSoon,
  exportNotFound,
  subjectMismatch,
  exportTypeMismatch,
  accountTokenPositionMismatch,
  sourceAccountNotFound,
  sourceAccountExpired,
  pushRejected,
  importInvalid,
  accountJwtInvalid,
  accountExpired,
  serverStateStale,
  duplicateImport,
  importCycle,
  duplicateOfCycleImport,
  cycleSearchRefused,
  localSubjectMapped,
  localSubjectPartlyMapped,
  localSubjectMappingsOverlap,
  repliesMapped,
  repliesPartlyMapped,
  repliesMappingsOverlap,
  jetStreamImportsIncomplete,
  exportsOverlap,
];

export const CAUSES: ReadonlyMap<CauseCode, Cause> = new Map(ALL.map((c) => [c.code, c]));

export function causeOf(code: CauseCode): Cause {
  const cause = CAUSES.get(code);
  if (!cause) throw new Error(`no cause module for ${code}`);
  return cause;
}
