/** Files that ship with the package: found from this module, whether it runs compiled or from source. */
import { readFileSync } from "node:fs";

// src/paths.ts or dist/src/paths.js: the package root is one or two levels up.
export const PACKAGE_ROOT = new URL(import.meta.url.includes("/dist/src/") ? "../../" : "../", import.meta.url);

export function packageFile(path: string): URL {
  return new URL(path, PACKAGE_ROOT);
}

export const PACKAGE = JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as {
  name: string;
  version: string;
  description: string;
};
