/**
 * Activation tokens as the operator manages them: every token an import carries, who signed it,
 * and the nsc commands that reissue one — signed by a key named explicitly (nsc would otherwise
 * pick the first key it holds, which may be the very key being rotated away) and granting exactly
 * the import's subject, so that `nsc add import --token` recreates the same import.
 */
import { arg, reissueToken } from "./causes/cause.js";
import { causeContext } from "./report.js";
import type { AccountDirectory, AccountEntry } from "./directory.js";
import type { Finding } from "./evaluate.js";
import { importActivation, type ActivationClaims, type ImportClaim } from "./jwt/claims.js";

export interface TokenImport {
  importer: AccountEntry;
  imp: ImportClaim;
  activation: ActivationClaims;
}

/** Every import with a token that decodes and verifies; of the given importers only, or of all accounts. */
export function tokenImports(dir: AccountDirectory, importerIds?: Iterable<string>): TokenImport[] {
  const importers = importerIds
    ? [...new Set(importerIds)].map((id) => dir.get(id)).filter((e): e is AccountEntry => !!e)
    : dir.accounts();
  return importers.flatMap((importer) =>
    (importer.claims?.imports ?? []).flatMap((imp) => {
      const parsed = importActivation(imp);
      return parsed?.ok ? [{ importer, imp, activation: parsed.claims }] : [];
    }),
  );
}

/** Tokens that `signer` signed for imports from `exporterId`. */
export function tokensSignedBy(dir: AccountDirectory, exporterId: string, signer: string): TokenImport[] {
  return tokenImports(dir, dir.importersOf(exporterId)).filter(
    (t) => t.imp.account === exporterId && t.activation.issuer === signer,
  );
}

/**
 * The key to sign a reissued token with: another of the exporter's signing keys (plain before
 * scoped: accounts that use signing keys usually keep their identity key offline), else the
 * exporter's identity key, which the server always trusts for a token without issuer_account.
 */
export function signerThatStays(exporter: AccountEntry, leaving: string | null): string {
  const keys = [...(exporter.claims?.signingKeys ?? new Map<string, "plain" | "scoped">())].filter(
    ([k]) => k !== leaving,
  );
  const plain = keys.find(([, kind]) => kind === "plain");
  return (plain ?? keys[0])?.[0] ?? exporter.id;
}

/** The key that signed this token, while the exporter still trusts it; else one that stays. */
export function renewalSigner(exporter: AccountEntry, act: ActivationClaims): string {
  const trusted = act.issuer === exporter.id || (exporter.claims?.signingKeys.has(act.issuer) ?? false);
  return trusted ? act.issuer : signerThatStays(exporter, act.issuer);
}

/** nsc's absolute time format, to the second ("2006-01-02 15:04:05 UTC" in Go's notation). */
export function nscTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, " UTC");
}

/** The old token's lifetime as an nsc duration, counted from now: a renewal lasts as long as the original. */
export function renewedExpiry(act: ActivationClaims): string {
  if (act.expires === 0) return "";
  const lifetime = act.expires - (act.notBefore || act.issuedAt);
  if (lifetime <= 0) return " --expiry 90d"; // no lifetime to copy: the check's own default
  const [count, unit] =
    lifetime >= 86400 ? [lifetime / 86400, "d"] : lifetime >= 3600 ? [lifetime / 3600, "h"] : [lifetime / 60, "m"];
  return ` --expiry ${Math.max(1, Math.round(count))}${unit}`;
}

/** The same validity window as the old token: same exp (and a start still to come), to the second. */
export function keptValidity(act: ActivationClaims, now: number): string {
  if (act.expires !== 0 && act.expires <= now) return renewedExpiry(act); // an expired window cannot be kept
  const start = act.notBefore > now ? ` --start ${arg(nscTime(act.notBefore))}` : "";
  return `${start}${act.expires ? ` --expiry ${arg(nscTime(act.expires))}` : ""}`;
}

/** The commands that give an import a new token, signed by `signer`, with the given validity flags. */
export function reissueCommands(
  dir: AccountDirectory,
  finding: Finding,
  signer: string,
  validity: string,
  now: number,
): string[] {
  // Without the export claim the generated token grants the import's own (exporter-side) subject.
  const ctx = { ...causeContext(dir, finding, now), exportClaim: null };
  return reissueToken(ctx, ` --private-key ${signer}${validity}`);
}
