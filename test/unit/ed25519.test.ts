/**
 * Both Ed25519 verifiers — sodium-native where its addon loads, node:crypto everywhere — accept
 * what the server accepts and refuse forgeries, on the same JWT bytes the decoder verifies.
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { createRequire } from "node:module";
import { afterAll, describe, expect, it } from "vitest";
import { decodeUncached } from "../../src/core/jwt/decode.js";
import {
  ed25519Verifier,
  goVerify,
  useEd25519Verifier,
  verifyEd25519,
  type Ed25519Verifier,
} from "../../src/core/jwt/ed25519.js";
import { TestOperator, forgeSignature } from "../support/deployment.js";

const initial = ed25519Verifier();

function sodiumInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("sodium-native");
    return true;
  } catch {
    return false;
  }
}
afterAll(() => {
  useEd25519Verifier(initial);
});

function keyPair(): { raw: Uint8Array; sign: (data: Uint8Array) => Uint8Array } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  return { raw, sign: (data) => sign(null, data, privateKey) };
}

describe("the verifier in use", () => {
  // A worktree whose node_modules predate the dependency has no sodium-native: node:crypto runs there.
  it.runIf(process.platform === "linux" && process.arch === "x64" && sodiumInstalled())(
    "is sodium-native on linux-x64, where its prebuild installs from npm",
    () => {
      expect(useEd25519Verifier("sodium-native")).toBe("sodium-native");
    },
  );

  it("falls back to node:crypto when asked", () => {
    expect(useEd25519Verifier("node:crypto")).toBe("node:crypto");
    expect(ed25519Verifier()).toBe("node:crypto");
  });
});

describe.each(["sodium-native", "node:crypto"] as Ed25519Verifier[])("verification with %s", (verifier) => {
  const use = () => useEd25519Verifier(verifier);
  const data = new TextEncoder().encode("header.claims");

  it("accepts a genuine signature", () => {
    use();
    const k = keyPair();
    expect(verifyEd25519("K1", k.raw, data, k.sign(data))).toBe(true);
  });

  it("refuses a signature by another key, over other bytes, altered, or of the wrong length", () => {
    use();
    const k = keyPair();
    const other = keyPair();
    const signature = k.sign(data);
    expect(verifyEd25519("K2", k.raw, data, other.sign(data))).toBe(false);
    expect(verifyEd25519("K2", k.raw, new TextEncoder().encode("header.claimz"), signature)).toBe(false);
    for (const at of [0, 31, 32, 63]) {
      const altered = Uint8Array.from(signature);
      altered[at]! ^= 1;
      expect(verifyEd25519("K2", k.raw, data, altered)).toBe(false);
    }
    expect(verifyEd25519("K2", k.raw, data, signature.subarray(0, 63))).toBe(false);
    // libsodium reads the first 64 bytes of a longer signature and accepts it; Go's ed25519.Verify
    // (the server's, through nkeys) refuses any signature that is not exactly 64 bytes.
    expect(verifyEd25519("K2", k.raw, data, Uint8Array.of(...signature, 0))).toBe(false);
    expect(verifyEd25519("K2", k.raw, data, Uint8Array.of(...signature, ...signature))).toBe(false);
    expect(verifyEd25519("K2", k.raw.subarray(0, 31), data, signature)).toBe(false);
  });

  // R = identity and S = 0 under the identity key: the server's Go crypto/ed25519 accepts it and
  // libsodium refuses it. node:crypto accepts it on Node 20 and 22 and refuses it on Node 24
  // (measured: 24.22.3 and 22.23.5 both bundle OpenSSL 3.5.9), so such shapes are decided by Go's
  // equation (goVerify), whatever the verifier and the Node version.
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const smallOrder = new Uint8Array(64);
  smallOrder[0] = 1;

  it("accepts R = identity and S = 0 under the identity key, as the server's Go crypto/ed25519 does", () => {
    use();
    expect(verifyEd25519("IDENTITY", identity, data, smallOrder)).toBe(true);
    // Under the all-zero key (of order 4), only when k = SHA-512(R || A || M) is a multiple of 4, as in Go.
    const zero = new Uint8Array(32);
    const k = (m: Uint8Array) =>
      BigInt(
        `0x${Buffer.from(createHash("sha512").update(smallOrder.subarray(0, 32)).update(zero).update(m).digest())
          .reverse()
          .toString("hex")}`,
      );
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    for (const m of ["a", "b", "c", "d", "e", "f", "g", "h"].map((x) => Buffer.from(x)))
      expect(verifyEd25519("ZERO", zero, m, smallOrder)).toBe((k(m) % L) % 4n === 0n);
  });

  it("goVerify, Go's equation, agrees with the native verifier on genuine and altered signatures", () => {
    use();
    const k = keyPair();
    for (let i = 0; i < 7; i++) {
      const m = Buffer.from(`message ${i}`);
      const s = k.sign(m);
      expect(goVerify(k.raw, m, s)).toBe(true);
      const altered = Uint8Array.from(s);
      altered[i * 9] = altered[i * 9]! ^ 1;
      expect(goVerify(k.raw, m, altered)).toBe(false);
      expect(verifyEd25519(`K${i}`, k.raw, m, altered)).toBe(false);
    }
  });

  it("refuses a forged account JWT and accepts the genuine one, through the decoder", async () => {
    use();
    const op = await TestOperator.create();
    const account = await op.account("A");
    expect(decodeUncached(account.jwt).ok).toBe(true);
    expect(decodeUncached(forgeSignature(account.jwt))).toEqual({
      ok: false,
      error: "claim failed V2 signature verification",
    });
    // The genuine signature with a byte after it: refused by the server (measured on every pinned
    // line, test/integration/signature-length.test.ts), which libsodium alone would accept.
    const [h, c, sig] = account.jwt.split(".") as [string, string, string];
    const longer = Buffer.concat([Buffer.from(sig, "base64url"), Buffer.of(0)]).toString("base64url");
    expect(decodeUncached(`${h}.${c}.${longer}`)).toEqual({
      ok: false,
      error: "claim failed V2 signature verification",
    });
  });
});
