/** Time as the live service reads it: unix seconds for verdicts, and a plain wait. */

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
