import { fileURLToPath } from "node:url";

/** @type {import("next").NextConfig} */
export default {
  // The monorepo's root: where node_modules and the workspace packages are.
  turbopack: { root: fileURLToPath(new URL("../..", import.meta.url)) },
  outputFileTracingRoot: fileURLToPath(new URL("../..", import.meta.url)),
  poweredByHeader: false,
};
