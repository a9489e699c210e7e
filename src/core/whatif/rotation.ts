/**
 * Signing-key rotation: every activation token one of an exporter's signing keys signed, the
 * commands that reissue each with a key that stays, and — on request — what removing the key
 * would break. The server trusts a token with issuer_account only while its signer is one of the
 * exporter's current signing keys, so removing a key silently kills every import it signed for.
 * The removal is tried on a what-if copy of the directory: the exporter's claims without the key.
 */
import { arg, label, push } from "../causes/cause.js";
import { byImport, diagnose } from "../report.js";
import type { ImportDiagnosis } from "../diagnosis.js";
import type { AccountDirectory, AccountEntry } from "../directory.js";
import { evaluateImport, type EvaluationOptions } from "../evaluate.js";
import { keptValidity, reissueCommands, signerThatStays, tokensSignedBy, type TokenImport } from "../tokens.js";
import { compare, diagnosesByImport, type PredictedChange } from "./changes.js";
import { namedAccount, refuse, type Refusal } from "../result.js";

export interface RotationRequest {
  /** The exporter: public key or JWT name. */
  account: string;
  signingKey: string;
  remove: boolean;
}

/** A token the key signed: the import's diagnosis today, and how to reissue its token. */
export type SignedToken = ImportDiagnosis & { reissue: string[] };

export interface RotationResult {
  account: string;
  account_name: string | null;
  signing_key: string;
  /** The key is one of the exporter's signing keys today. */
  current: boolean;
  /** The key the reissue commands sign with. */
  reissue_signer: string;
  tokens: SignedToken[];
  remove: boolean;
  /** With remove: the imports whose (status, cause) would change, breaks first. */
  changes: PredictedChange[];
  /** With remove: the commands that remove the key, to run once every token is reissued. */
  remove_commands: string[];
  notes: string[];
}

export type RotationOutcome = { ok: true; result: RotationResult } | Refusal;

export function rotation(dir: AccountDirectory, req: RotationRequest, opts: EvaluationOptions): RotationOutcome {
  const named = namedAccount(dir, req.account);
  if (!named.ok) return named;
  const exporter = named.entry;
  if (!exporter.claims)
    return refuse("invalid", `account: the JWT of ${exporter.id} does not decode, so its signing keys are unknown`);
  if (req.signingKey === exporter.id)
    return refuse("invalid", `signing_key: that is ${label(exporter)}'s identity key, not a signing key`);
  const current = exporter.claims.signingKeys.has(req.signingKey);
  if (req.remove && !current)
    return refuse("not_found", `signing_key: ${req.signingKey} is not a signing key of ${label(exporter)}`);

  const signer = signerThatStays(exporter, req.signingKey);
  const tokens = tokensSignedBy(dir, exporter.id, req.signingKey)
    .map((t) => signedToken(dir, t, signer, opts))
    .sort(byImport);
  const changes = req.remove ? removalChanges(dir, exporter, req.signingKey, opts) : [];
  return {
    ok: true,
    result: {
      account: exporter.id,
      account_name: exporter.name,
      signing_key: req.signingKey,
      current,
      reissue_signer: signer,
      tokens,
      remove: req.remove,
      changes,
      remove_commands: req.remove
        ? [`nsc edit account --name ${arg(label(exporter))} --rm-sk ${req.signingKey}`, push(exporter)]
        : [],
      notes: notes(exporter, req, current, signer, tokens.length),
    },
  };
}

function signedToken(dir: AccountDirectory, t: TokenImport, signer: string, opts: EvaluationOptions): SignedToken {
  const finding = evaluateImport(dir, t.importer, t.imp, opts);
  return {
    ...diagnose(dir, finding, opts.now),
    reissue: reissueCommands(dir, finding, signer, keptValidity(t.activation, opts.now), opts.now),
  };
}

/** The exporter's claims without the key, tried on a copy: every import that can notice is diagnosed before and after. */
function removalChanges(
  dir: AccountDirectory,
  exporter: AccountEntry,
  key: string,
  opts: EvaluationOptions,
): PredictedChange[] {
  const whatIf = dir.clone();
  const affected = whatIf.amendClaims(exporter.id, (claims) => ({
    ...claims,
    signingKeys: new Map([...claims.signingKeys].filter(([k]) => k !== key)),
  }));
  return compare(diagnosesByImport(dir, affected, opts), diagnosesByImport(whatIf, affected, opts)).changes;
}

function notes(
  exporter: AccountEntry,
  req: RotationRequest,
  current: boolean,
  signer: string,
  tokenCount: number,
): string[] {
  const name = label(exporter);
  const out: string[] = [];
  if (!current)
    out.push(`${req.signingKey} is not a signing key of ${name} today: every token it signed is already untrusted.`);
  if (tokenCount === 0) out.push(`No import declares a token that ${req.signingKey} signed for ${name}.`);
  if (signer === exporter.id) {
    out.push(
      `${name} has no other signing key: the reissue commands sign with its identity key (or add one with nsc edit account --name ${arg(name)} --sk generate, and sign with that).`,
    );
  }
  if (req.remove)
    out.push(
      `Users of ${name} whose JWTs ${req.signingKey} signed can no longer connect once it is removed; user JWTs are not visible here.`,
    );
  return out;
}
