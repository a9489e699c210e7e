/** A problem with what the user gave (options, files, credentials, the deployment they point at): one line, exit 2. */
export class ConfigError extends Error {}
