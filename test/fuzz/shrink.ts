/**
 * Shrinking a disagreement: greedily try smaller deployments (fewer accounts, imports, exports,
 * keys, fewer options) and keep each one on which the same judge still disagrees with the truth
 * about the same import. Every try runs on a real server, so the number of tries is bounded.
 */
import type { FuzzAccount, FuzzDeployment, FuzzExport, FuzzImport, FuzzRevocation } from "./model.js";

export interface Target {
  account: number;
  /** Import names are unique in a deployment and survive shrinking. */
  name: string;
}

/** Drop account `k`: imports from it go, indices above it move down. */
function withoutAccount(d: FuzzDeployment, k: number, target: Target): { d: FuzzDeployment; target: Target } | null {
  if (k === target.account) return null;
  const idx = (i: number) => (i > k ? i - 1 : i);
  const fixExport = (e: FuzzExport): FuzzExport => {
    if (!e.revocations) return e;
    const revocations = e.revocations
      .filter((v) => v.who !== k)
      .map((v): FuzzRevocation => ({ ...v, who: v.who === "*" ? "*" : idx(v.who) }));
    const out = { ...e, revocations };
    if (revocations.length === 0) delete (out as Partial<FuzzExport>).revocations;
    return out;
  };
  const accounts = d.accounts
    .filter((_, i) => i !== k)
    .map((a) => ({
      ...a,
      exports: a.exports.map(fixExport),
      imports: a.imports
        .filter((imp) => imp.from !== k)
        .map((imp) => ({ ...imp, from: imp.from === "system" ? imp.from : idx(imp.from) })),
    }));
  const targetImp = accounts[idx(target.account)]?.imports.find((i) => i.name === target.name);
  if (!targetImp) return null;
  return {
    d: { system_exports: d.system_exports.map(fixExport), accounts },
    target: { account: idx(target.account), name: target.name },
  };
}

function mapAccount(d: FuzzDeployment, k: number, f: (a: FuzzAccount) => FuzzAccount): FuzzDeployment {
  return { ...d, accounts: d.accounts.map((a, i) => (i === k ? f(a) : a)) };
}

/** Candidate reductions, roughly from the biggest to the smallest. */
export function* reductions(
  d: FuzzDeployment,
  target: Target,
): Generator<{ d: FuzzDeployment; target: Target; what: string }> {
  for (let k = d.accounts.length - 1; k >= 0; k--) {
    const r = withoutAccount(d, k, target);
    if (r) yield { ...r, what: `drop account ${d.accounts[k]!.name}` };
  }
  for (const [k, a] of d.accounts.entries()) {
    for (const imp of a.imports) {
      if (k === target.account && imp.name === target.name) continue;
      yield {
        d: mapAccount(d, k, (x) => ({ ...x, imports: x.imports.filter((i) => i !== imp) })),
        target,
        what: `drop import ${imp.name}`,
      };
    }
  }
  for (const [k, a] of d.accounts.entries()) {
    for (const [e] of a.exports.entries()) {
      yield {
        d: mapAccount(d, k, (x) => ({ ...x, exports: x.exports.filter((_, j) => j !== e) })),
        target,
        what: `drop export ${e} of ${a.name}`,
      };
    }
  }
  for (const [e] of d.system_exports.entries()) {
    yield {
      d: { ...d, system_exports: d.system_exports.filter((_, j) => j !== e) },
      target,
      what: `drop system export ${e}`,
    };
  }
  for (const [k, a] of d.accounts.entries()) {
    for (const [n] of a.signing_keys.entries())
      yield { d: withoutSigningKey(d, k, n), target, what: `drop signing key ${n} of ${a.name}` };
    if (a.exp !== undefined || a.nbf !== undefined)
      yield { d: mapAccount(d, k, ({ exp: _e, nbf: _n, ...x }) => x), target, what: `no exp/nbf on ${a.name}` };
    if (a.import_limit !== undefined)
      yield { d: mapAccount(d, k, ({ import_limit: _l, ...x }) => x), target, what: `no import limit on ${a.name}` };
    if (!a.pushed) yield { d: mapAccount(d, k, (x) => ({ ...x, pushed: true })), target, what: `push ${a.name}` };
    for (const [e, exp] of a.exports.entries()) {
      const simpler = simplerExports(exp);
      for (const s of simpler)
        yield {
          d: mapAccount(d, k, (x) => ({ ...x, exports: x.exports.map((y, j) => (j === e ? s.e : y)) })),
          target,
          what: `${s.what} on export ${e} of ${a.name}`,
        };
    }
    for (const [n, imp] of a.imports.entries()) {
      for (const s of simplerImports(imp))
        yield {
          d: mapAccount(d, k, (x) => ({ ...x, imports: x.imports.map((y, j) => (j === n ? s.i : y)) })),
          target,
          what: `${s.what} on ${imp.name}`,
        };
    }
  }
}

function simplerExports(e: FuzzExport): { e: FuzzExport; what: string }[] {
  const out: { e: FuzzExport; what: string }[] = [];
  if (e.revocations) out.push({ e: omit(e, "revocations"), what: "no revocations" });
  if (e.latency) out.push({ e: omit(e, "latency"), what: "no latency" });
  if (e.response_type) out.push({ e: omit(e, "response_type"), what: "no response type" });
  if (e.token_req) out.push({ e: omit(e, "token_req"), what: "public" });
  return out;
}

function simplerImports(i: FuzzImport): { i: FuzzImport; what: string }[] {
  const out: { i: FuzzImport; what: string }[] = [];
  if (i.share) out.push({ i: omit(i, "share"), what: "no share" });
  if (i.token) {
    out.push({ i: omit(i, "token"), what: "no token" });
    const t = i.token;
    if (t.exp !== undefined) out.push({ i: { ...i, token: omit(t, "exp") }, what: "token without exp" });
    if (t.nbf !== undefined) out.push({ i: { ...i, token: omit(t, "nbf") }, what: "token without nbf" });
    if (t.signer !== "identity")
      out.push({ i: { ...i, token: { ...t, signer: "identity" } }, what: "token signed by identity" });
  }
  return out;
}

function omit<T extends object, K extends keyof T>(o: T, k: K): T {
  const copy = { ...o };
  delete copy[k];
  return copy;
}

/** Drop signing key `n` of account `k`: tokens it signed are signed by the identity key instead. */
function withoutSigningKey(d: FuzzDeployment, k: number, n: number): FuzzDeployment {
  const signer = (s: "identity" | number): "identity" | number =>
    s === "identity" || s === n ? "identity" : s > n ? s - 1 : s;
  return {
    ...d,
    accounts: d.accounts.map((a, i) => ({
      ...a,
      signing_keys: i === k ? a.signing_keys.filter((_, j) => j !== n) : a.signing_keys,
      imports: a.imports.map((imp) =>
        imp.from === k && imp.token ? { ...imp, token: { ...imp.token, signer: signer(imp.token.signer) } } : imp,
      ),
    })),
  };
}
