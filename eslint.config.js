// ESLint with typescript-eslint's type-aware rules: the type checker knows what a promise is, so a
// promise that nobody awaits or catches (no-floating-promises), or one handed to a caller that
// ignores what its callback returns (no-misused-promises), is found before the live service drops
// an error on the floor.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      ".tools/",
      ".stryker-tmp/",
      "coverage/",
      "reports/",
      "fuzz-found/",
      "deploy/",
      "tools/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "*.ts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A leading underscore marks what is there for its position only (a callback's unused argument).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // An async function that implements an async interface need not await anything; what matters
      // (every promise handled) is no-floating-promises'.
      "@typescript-eslint/require-await": "off",
      // `${x}` where x is `never` is the message of an exhaustive switch's unreachable default.
      // prom-client calls a gauge's collect() with the gauge as `this`; the collector is `self`.
      "@typescript-eslint/no-this-alias": ["error", { allowedNames: ["self"] }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNever: true, allowNumber: true }],
    },
  },
  {
    files: ["test/**/*.ts"],
    // vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },
);
