/**
 * `@hush/server/testing`: what a third party needs to write and prove a storage back end — the
 * storage contract, its record types and errors, and the conformance suite that SQLite and
 * PostgreSQL pass (it runs under Vitest, an optional peer dependency of this entry point).
 *
 * @example
 * import { runStorageConformance } from "@hush/server/testing";
 * runStorageConformance("my database", () => openMyStorage(), (storage) => storage.close());
 */
export type {
  ChallengePurpose,
  IdentityRecord,
  LinkPurpose,
  LinkTokenRecord,
  MfaTokenRecord,
  OutboxMail,
  PasskeyRecord,
  PasswordReplacement,
  PoolStats,
  PruneResult,
  RateLimiterSpec,
  RefreshSession,
  RevokedSession,
  RevokeReason,
  RotateInput,
  SessionRecord,
  SessionUser,
  SigningKeyRecord,
  Storage,
  TotpRecord,
  UserRecord,
} from "./storage/contract.js";
export { EmailTakenError, IdentityTakenError } from "./storage/contract.js";
export { runStorageConformance } from "./storage/storage-conformance.js";
export { isUnavailableError, StorageUnavailableError, withUnavailableErrors } from "./storage/unavailable.js";
