import type { ResolvedOptions } from "./config/options.js";
import type { KeyRing } from "./keys/key-ring.js";
import type { DirectRoute } from "./node/direct-routes.js";
import type { Storage } from "./storage/contract.js";

/**
 * What a running server keeps to itself: its storage, key ring (private keys included), resolved
 * options and route table. Not part of the public API — the CLI, the tests and the benchmarks
 * reach it through `internalsOf(server)`, so `createAuthServer()` hands users only what they need.
 */
export interface AuthServerInternals {
  readonly options: ResolvedOptions;
  readonly storage: Storage;
  readonly keys: KeyRing;
  /** Every route the server answers, as `{method, path}` in Hono's `:param` style. */
  readonly routes: ReadonlyArray<{ method: string; path: string }>;
  /** Routes node:http answers without the router, by `METHOD /path` (see `node/direct-routes.ts`). */
  readonly directRoutes: ReadonlyMap<string, DirectRoute>;
}

/** Tries the internals of a handler that may not be a Hush server (node adapters take any `fetch`). */
export function maybeInternalsOf(server: object): AuthServerInternals | undefined {
  return INTERNALS.get(server);
}

const INTERNALS = new WeakMap<object, AuthServerInternals>();

/** Records a server's internals (called by `createAuthServer`). */
export function registerInternals(server: object, internals: AuthServerInternals): void {
  INTERNALS.set(server, internals);
}

/** The internals of a server made by `createAuthServer` in this process. */
export function internalsOf(server: object): AuthServerInternals {
  const internals = INTERNALS.get(server);
  if (!internals) throw new Error("internalsOf: not a server made by createAuthServer");
  return internals;
}
