import { randomUUID } from "node:crypto";
import type { CompiledQuery, Kysely, QueryResult, Selectable, UpdateQueryBuilder, UpdateResult } from "kysely";
import { compileOnce } from "./compiled-query.js";
import {
  type ChallengePurpose,
  EmailTakenError,
  type IdentityRecord,
  IdentityTakenError,
  type LinkPurpose,
  type LinkTokenRecord,
  type MfaTokenRecord,
  type OutboxMail,
  type PasskeyRecord,
  type PasswordReplacement,
  type PruneResult,
  type RefreshSession,
  type RevokedSession,
  type RevokeReason,
  type RotateInput,
  type SessionRecord,
  type SessionUser,
  type SigningKeyRecord,
  type Storage,
  type TotpRecord,
  type UserRecord,
} from "./contract.js";
import { migrateToLatest, pingDatabase } from "./migrations.js";
import type {
  Database,
  IdentitiesTable,
  LinkTokensTable,
  MailOutboxTable,
  MfaTokensTable,
  PasskeysTable,
  SessionsTable,
  SigningKeysTable,
  TotpFactorsTable,
  UsersTable,
} from "./schema.js";
import type { DirectQuery } from "./sqlite-direct.js";

/** Unique-constraint violation on SQLite (better-sqlite3) or PostgreSQL (pg, SQLSTATE 23505). */
function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("code" in error)) return false;
  const code = (error as { code: unknown }).code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

// PostgreSQL's driver may hand `bigint` columns back as strings; SQLite gives numbers.
const num = (value: number | string): number => (typeof value === "number" ? value : Number(value));
const numOrNull = (value: number | string | null): number | null => (value === null ? null : num(value));

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    securityStamp: num(row.security_stamp),
    suspendedAt: numOrNull(row.suspended_at),
    emailVerifiedAt: numOrNull(row.email_verified_at),
  };
}

function toLinkToken(row: Selectable<LinkTokensTable>): LinkTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    purpose: row.purpose as LinkPurpose,
    email: row.email,
    secretHash: row.secret_hash,
    createdAt: num(row.created_at),
    expiresAt: num(row.expires_at),
    usedAt: numOrNull(row.used_at),
  };
}

function toOutboxMail(row: Selectable<MailOutboxTable>): OutboxMail {
  return {
    id: row.id,
    kind: row.kind,
    recipient: row.recipient,
    payload: row.payload,
    subject: row.subject,
    textBody: row.text_body,
    htmlBody: row.html_body,
    createdAt: num(row.created_at),
    attempts: num(row.attempts),
    nextAttemptAt: num(row.next_attempt_at),
  };
}

/**
 * `[retiredAt, …]` as stored, or the longer `[[hash, retiredAt], …]` of rows written before
 * times sufficed (a refresh rewrites it in the short form). Anything unreadable counts as none:
 * that only narrows a grace, never widens it.
 */
function parseRetired(text: string | null): number[] {
  if (!text) return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return [];
  const retired: number[] = [];
  for (const entry of parsed) {
    const at = Array.isArray(entry) ? entry[1] : entry;
    if (typeof at === "number") retired.push(at);
  }
  return retired;
}

function formatRetired(retired: readonly number[]): string | null {
  // A few hundred bytes at most: the row a refresh reads and writes stays small.
  return retired.length === 0 ? null : JSON.stringify(retired);
}

/** The columns of a session row that a refresh reads (see `findSessionForRefresh`). */
type RefreshSessionRow = Pick<
  Selectable<SessionsTable>,
  | "id"
  | "user_id"
  | "current_hash"
  | "previous_hash"
  | "rotated_at"
  | "generation"
  | "created_at"
  | "last_used_at"
  | "expires_at"
  | "security_stamp"
  | "revoked_at"
  | "recently_retired"
  | "auth_time"
  | "amr"
>;

function toRefreshSession(row: RefreshSessionRow): RefreshSession {
  return {
    id: row.id,
    userId: row.user_id,
    currentHash: row.current_hash,
    previousHash: row.previous_hash,
    rotatedAt: numOrNull(row.rotated_at),
    generation: num(row.generation),
    createdAt: num(row.created_at),
    lastUsedAt: num(row.last_used_at),
    expiresAt: num(row.expires_at),
    securityStamp: num(row.security_stamp),
    revokedAt: numOrNull(row.revoked_at),
    recentlyRetired: parseRetired(row.recently_retired),
    authTime: numOrNull(row.auth_time),
    amr: parseAmr(row.amr),
  };
}

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    ...toRefreshSession(row),
    accessExpiresAt: num(row.access_expires_at),
    userAgent: row.user_agent,
    ip: row.ip,
    revokedReason: row.revoked_reason,
  };
}

/** The user's columns a session read joins in, aliased `u_…` (see `compileHotQueries`). */
interface JoinedUserColumns {
  user_id: string;
  u_email: string;
  u_created_at: number | string;
  u_security_stamp: number | string;
  u_suspended_at: number | string | null;
  u_email_verified_at: number | string | null;
}

function toJoinedUser(row: JoinedUserColumns): SessionUser {
  return {
    id: row.user_id,
    email: row.u_email,
    createdAt: num(row.u_created_at),
    securityStamp: num(row.u_security_stamp),
    suspendedAt: numOrNull(row.u_suspended_at),
    emailVerifiedAt: numOrNull(row.u_email_verified_at),
  };
}

/** A session's `amr` as stored (JSON); sessions from before the column signed in with a password. */
function parseAmr(text: string | null): string[] {
  if (!text) return ["pwd"];
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) && parsed.every((v) => typeof v === "string") ? parsed : ["pwd"];
}

function toPasskey(row: Selectable<PasskeysTable>): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    publicKey: row.public_key,
    counter: num(row.counter),
    transports: row.transports ? (JSON.parse(row.transports) as string[]) : [],
    deviceType: row.device_type === "multiDevice" ? "multiDevice" : "singleDevice",
    backedUp: num(row.backed_up) === 1,
    createdAt: num(row.created_at),
    lastUsedAt: numOrNull(row.last_used_at),
  };
}

function toTotp(row: Selectable<TotpFactorsTable>): TotpRecord {
  return {
    userId: row.user_id,
    secretSealed: row.secret_sealed,
    enabledAt: numOrNull(row.enabled_at),
    lastStep: numOrNull(row.last_step),
    failures: num(row.failures),
    createdAt: num(row.created_at),
  };
}

function toIdentity(row: Selectable<IdentitiesTable>): IdentityRecord {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider,
    issuer: row.issuer,
    subject: row.subject,
    email: row.email,
    emailVerified: num(row.email_verified) === 1,
    createdAt: num(row.created_at),
  };
}

function toMfaToken(row: Selectable<MfaTokensTable>): MfaTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    context: row.context,
    expiresAt: num(row.expires_at),
    usedAt: numOrNull(row.used_at),
    failures: num(row.failures),
  };
}

function toSigningKey(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateSealed: row.private_sealed,
    createdAt: num(row.created_at),
    activatesAt: num(row.activates_at),
    retiredAt: numOrNull(row.retired_at),
  };
}

type SessionsUpdate = UpdateQueryBuilder<Database, "sessions", "sessions", UpdateResult>;

/**
 * Runs a batch delete until a batch removes fewer than `batchSize` rows, at most `maxBatches`
 * times; returns how many it removed. Bounded batches (a subquery with LIMIT works on SQLite
 * and PostgreSQL alike) keep each statement short, so the janitor never holds the write lock long.
 */
async function inBatches(limits: { batchSize: number; maxBatches: number }, deleteBatch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < limits.maxBatches; batch++) {
    const count = await deleteBatch();
    total += count;
    if (count < limits.batchSize) break;
  }
  return total;
}

/** How long the janitor keeps a sent or failed mail's row. */
const FINISHED_MAIL_KEPT_MS = 86_400_000;

/** Thrown inside `replacePassword`'s transaction to roll it back. */
class KeptSessionGone extends Error {}

/** Revokes the live sessions a filter selects and records them for the feed, inside `trx`. */
async function revokeIn(
  trx: Kysely<Database>,
  reason: RevokeReason,
  now: number,
  filter: (query: SessionsUpdate) => SessionsUpdate,
): Promise<string[]> {
  const query = trx.updateTable("sessions").set({ revoked_at: now, revoked_reason: reason }).where("revoked_at", "is", null);
  const rows = await filter(query).returning(["id", "user_id", "access_expires_at"]).execute();
  if (rows.length > 0) {
    await trx
      .insertInto("revocations")
      .values(rows.map((r) => ({ session_id: r.id, user_id: r.user_id, revoked_at: now, until: num(r.access_expires_at) })))
      .onConflict((oc) => oc.column("session_id").doNothing())
      .execute();
  }
  return rows.map((r) => r.id);
}

function compileHotQueries(db: Kysely<Database>) {
  return {
    findSessionWithUser: compileOnce((p: (name: "sessionId") => never) =>
      db
        .selectFrom("sessions as s")
        .innerJoin("users as u", "u.id", "s.user_id")
        .selectAll("s")
        .select([
          "u.email as u_email",
          "u.password_hash as u_password_hash",
          "u.created_at as u_created_at",
          "u.updated_at as u_updated_at",
          "u.security_stamp as u_security_stamp",
          "u.suspended_at as u_suspended_at",
          "u.email_verified_at as u_email_verified_at",
        ])
        .where("s.id", "=", p("sessionId")),
    ),
    // Only what a refresh uses: the password hash, user agent and the like stay on disk.
    findSessionForRefresh: compileOnce((p: (name: "sessionId") => never) =>
      db
        .selectFrom("sessions as s")
        .innerJoin("users as u", "u.id", "s.user_id")
        .select([
          "s.id",
          "s.user_id",
          "s.current_hash",
          "s.previous_hash",
          "s.rotated_at",
          "s.generation",
          "s.created_at",
          "s.last_used_at",
          "s.expires_at",
          "s.security_stamp",
          "s.revoked_at",
          "s.recently_retired",
          "s.auth_time",
          "s.amr",
          "u.email as u_email",
          "u.created_at as u_created_at",
          "u.security_stamp as u_security_stamp",
          "u.suspended_at as u_suspended_at",
          "u.email_verified_at as u_email_verified_at",
        ])
        .where("s.id", "=", p("sessionId")),
    ),
    // Conditional on the expected hash: of concurrent rotations of one token exactly one
    // matches a row; the database's own row locking decides, on every instance alike.
    rotateSession: compileOnce((p: (name: keyof RotateInput) => never) =>
      db
        .updateTable("sessions")
        .set((eb) => ({
          previous_hash: eb.ref("current_hash"),
          current_hash: p("nextHash"),
          rotated_at: p("now"),
          last_used_at: p("now"),
          access_expires_at: p("accessExpiresAt"),
          recently_retired: p("recentlyRetired"),
          generation: eb("generation", "+", 1),
        }))
        .where("id", "=", p("sessionId"))
        .where("current_hash", "=", p("expectedHash"))
        .where("revoked_at", "is", null),
    ),
  };
}

/**
 * The storage contract on any Kysely dialect. It uses only portable SQL, so SQLite and
 * PostgreSQL share every line; concurrency comes from conditional UPDATEs and unique keys,
 * never from in-process locks, so it holds across server instances too.
 */
export class KyselyStorage implements Storage {
  /** The refresh hot path's queries, compiled once (see `compileOnce`). */
  private readonly hot;

  private readonly onClose: () => Promise<void>;
  /** Runs a hot query synchronously when the driver can (SQLite; see `directSqlite`). */
  private readonly direct: DirectQuery | undefined;

  constructor(
    readonly db: Kysely<Database>,
    options: { onClose?: () => Promise<void>; direct?: DirectQuery } = {},
  ) {
    this.hot = compileHotQueries(db);
    this.onClose = options.onClose ?? (() => db.destroy());
    this.direct = options.direct;
  }

  /** Runs one of the hot queries: directly when the driver allows, else through Kysely. */
  private runHot<R>(query: CompiledQuery<R>): QueryResult<R> | Promise<QueryResult<R>> {
    return this.direct?.(query) ?? this.db.executeQuery(query);
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.db as unknown as Kysely<unknown>);
  }

  ping(): Promise<void> {
    return pingDatabase(this.db as unknown as Kysely<unknown>);
  }

  close(): Promise<void> {
    return this.onClose();
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.db
        .insertInto("users")
        .values({
          id: user.id,
          email: user.email,
          password_hash: user.passwordHash,
          created_at: user.createdAt,
          updated_at: user.updatedAt,
          security_stamp: user.securityStamp,
          suspended_at: user.suspendedAt,
          email_verified_at: user.emailVerifiedAt,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTakenError(`email already registered`);
      throw error;
    }
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom("users").selectAll().orderBy("created_at").orderBy("id").execute();
    return rows.map(toUser);
  }

  async setSuspended(userId: string, suspended: boolean, now: number): Promise<number> {
    const row = await this.db
      .updateTable("users")
      .set((eb) => ({ suspended_at: suspended ? now : null, updated_at: now, security_stamp: eb("security_stamp", "+", 1) }))
      .where("id", "=", userId)
      .returning("security_stamp")
      .executeTakeFirstOrThrow();
    return num(row.security_stamp);
  }

  async bumpSecurityStamp(userId: string, now: number): Promise<number> {
    const row = await this.db
      .updateTable("users")
      .set((eb) => ({ updated_at: now, security_stamp: eb("security_stamp", "+", 1) }))
      .where("id", "=", userId)
      .returning("security_stamp")
      .executeTakeFirstOrThrow();
    return num(row.security_stamp);
  }

  async setPasswordHash(userId: string, passwordHash: string, bumpStamp: boolean, now: number): Promise<number> {
    const row = await this.db
      .updateTable("users")
      .set((eb) => ({
        password_hash: passwordHash,
        updated_at: now,
        security_stamp: bumpStamp ? eb("security_stamp", "+", 1) : eb.ref("security_stamp"),
      }))
      .where("id", "=", userId)
      .returning("security_stamp")
      .executeTakeFirstOrThrow();
    return num(row.security_stamp);
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.db
      .insertInto("sessions")
      .values({
        id: session.id,
        user_id: session.userId,
        current_hash: session.currentHash,
        previous_hash: session.previousHash,
        rotated_at: session.rotatedAt,
        generation: session.generation,
        created_at: session.createdAt,
        last_used_at: session.lastUsedAt,
        expires_at: session.expiresAt,
        security_stamp: session.securityStamp,
        access_expires_at: session.accessExpiresAt,
        user_agent: session.userAgent,
        ip: session.ip,
        revoked_at: session.revokedAt,
        revoked_reason: session.revokedReason,
        recently_retired: formatRetired(session.recentlyRetired),
        auth_time: session.authTime,
        amr: JSON.stringify(session.amr),
      })
      .execute();
  }

  async findSessionForRefresh(sessionId: string): Promise<{ session: RefreshSession; user: SessionUser } | undefined> {
    const { rows } = await this.runHot(this.hot.findSessionForRefresh({ sessionId }));
    const row = rows[0];
    if (!row) return undefined;
    return { session: toRefreshSession(row), user: toJoinedUser(row) };
  }

  async findSessionWithUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
    const { rows } = await this.runHot(this.hot.findSessionWithUser({ sessionId }));
    const row = rows[0];
    if (!row) return undefined;
    return {
      session: toSession(row),
      user: { ...toJoinedUser(row), passwordHash: row.u_password_hash, updatedAt: num(row.u_updated_at) },
    };
  }

  async rotateSession(input: RotateInput): Promise<boolean> {
    const result = await this.runHot(this.hot.rotateSession({ ...input, recentlyRetired: formatRetired(input.recentlyRetired) }));
    return result.numAffectedRows === 1n;
  }

  async revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<boolean> {
    const revoked = await this.revokeWhere(reason, now, (q) => q.where("id", "=", sessionId));
    return revoked.length === 1;
  }

  revokeUserSessions(userId: string, reason: RevokeReason, now: number, exceptSessionId?: string): Promise<string[]> {
    return this.revokeWhere(reason, now, (q) => {
      const mine = q.where("user_id", "=", userId);
      return exceptSessionId === undefined ? mine : mine.where("id", "!=", exceptSessionId);
    });
  }

  /** Revokes the live sessions a filter selects and records them for the feed, in one transaction. */
  private revokeWhere(reason: RevokeReason, now: number, filter: (query: SessionsUpdate) => SessionsUpdate): Promise<string[]> {
    return this.db.transaction().execute((trx) => revokeIn(trx, reason, now, filter));
  }

  async resetSession(input: {
    sessionId: string;
    currentHash: string;
    securityStamp: number;
    now: number;
    accessExpiresAt: number;
  }): Promise<void> {
    await this.db
      .updateTable("sessions")
      .set({
        current_hash: input.currentHash,
        previous_hash: null,
        recently_retired: null,
        rotated_at: input.now,
        last_used_at: input.now,
        security_stamp: input.securityStamp,
        access_expires_at: input.accessExpiresAt,
      })
      .where("id", "=", input.sessionId)
      .where("revoked_at", "is", null)
      .execute();
  }

  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom("sessions")
      .selectAll()
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now)
      .orderBy("created_at", "desc")
      .execute();
    return rows.map(toSession);
  }

  async recordRevocation(entry: { sessionId: string; userId: string; now: number; until: number; keptUntil?: number }): Promise<void> {
    await this.db
      .insertInto("revocations")
      .values({
        session_id: entry.sessionId,
        user_id: entry.userId,
        revoked_at: entry.now,
        until: entry.until,
        kept_until: entry.keptUntil ?? null,
      })
      .onConflict((oc) => oc.column("session_id").doNothing())
      .execute();
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const row = await this.db.selectFrom("revocations").select("session_id").where("session_id", "=", sessionId).executeTakeFirst();
    return row !== undefined;
  }

  async listRecentlyRevoked(now: number): Promise<RevokedSession[]> {
    const rows = await this.db
      .selectFrom("revocations")
      .select(["session_id", "until"])
      .where("until", ">", now)
      .orderBy("session_id")
      .execute();
    return rows.map((r) => ({ sessionId: r.session_id, accessExpiresAt: num(r.until) }));
  }

  async replacePassword(change: PasswordReplacement): Promise<{ securityStamp: number; revoked: string[] } | undefined> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const user = await trx
          .updateTable("users")
          .set((eb) => ({ password_hash: change.passwordHash, updated_at: change.now, security_stamp: eb("security_stamp", "+", 1) }))
          .where("id", "=", change.userId)
          .returning("security_stamp")
          .executeTakeFirstOrThrow();
        const securityStamp = num(user.security_stamp);
        const keep = change.keep;
        if (keep) {
          const kept = await trx
            .updateTable("sessions")
            .set({
              current_hash: keep.currentHash,
              previous_hash: null,
              recently_retired: null,
              rotated_at: change.now,
              last_used_at: change.now,
              security_stamp: securityStamp,
              access_expires_at: keep.accessExpiresAt,
            })
            .where("id", "=", keep.sessionId)
            .where("user_id", "=", change.userId)
            .where("revoked_at", "is", null)
            .executeTakeFirst();
          // Rolls the whole change back: a password is never changed from a session that has ended.
          if (kept.numUpdatedRows !== 1n) throw new KeptSessionGone();
        }
        const revoked = await revokeIn(trx, "password_changed", change.now, (q) => {
          const mine = q.where("user_id", "=", change.userId);
          return keep ? mine.where("id", "!=", keep.sessionId) : mine;
        });
        return { securityStamp, revoked };
      });
    } catch (error) {
      if (error instanceof KeptSessionGone) return undefined;
      throw error;
    }
  }

  async pruneExpired(now: number, limits: { idleMs: number; batchSize: number; maxBatches: number }): Promise<PruneResult> {
    const sessions = await inBatches(limits, async () => {
      const deleted = await this.db
        .deleteFrom("sessions")
        .where("id", "in", (eb) =>
          eb
            .selectFrom("sessions")
            .select("id")
            .where((w) => w.or([w("expires_at", "<=", now), w("last_used_at", "<=", now - limits.idleMs)]))
            .limit(limits.batchSize),
        )
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    });
    const revocations = await inBatches(limits, async () => {
      const deleted = await this.db
        .deleteFrom("revocations")
        .where("session_id", "in", (eb) =>
          eb
            .selectFrom("revocations")
            .select("session_id")
            .where("until", "<=", now)
            .where((w) => w.or([w("kept_until", "is", null), w("kept_until", "<=", now)]))
            .limit(limits.batchSize),
        )
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    });
    const links = await inBatches(limits, async () => {
      const deleted = await this.db
        .deleteFrom("link_tokens")
        .where("id", "in", (eb) => eb.selectFrom("link_tokens").select("id").where("expires_at", "<=", now).limit(limits.batchSize))
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    });
    // Finished mails stay a day (their bodies are already cleared): enough to look into a failure.
    const finishedBefore = now - FINISHED_MAIL_KEPT_MS;
    const mails = await inBatches(limits, async () => {
      const deleted = await this.db
        .deleteFrom("mail_outbox")
        .where("id", "in", (eb) =>
          eb
            .selectFrom("mail_outbox")
            .select("id")
            .where((w) => w.or([w("sent_at", "<=", finishedBefore), w("failed_at", "<=", finishedBefore)]))
            .limit(limits.batchSize),
        )
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    });
    return { sessions, revocations, links, mails };
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom("signing_keys").selectAll().orderBy("activates_at", "desc").execute();
    return rows.map(toSigningKey);
  }

  async addSigningKey(key: SigningKeyRecord, options: { onlyIfNone: boolean }): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      if (options.onlyIfNone) {
        const existing = await trx
          .selectFrom("signing_keys")
          .select("kid")
          .where("alg", "=", key.alg)
          .where("retired_at", "is", null)
          .executeTakeFirst();
        if (existing) return false;
      }
      const inserted = await trx
        .insertInto("signing_keys")
        .values({
          kid: key.kid,
          alg: key.alg,
          public_jwk: key.publicJwk,
          private_sealed: key.privateSealed,
          created_at: key.createdAt,
          activates_at: key.activatesAt,
          retired_at: null,
        })
        .onConflict((oc) => oc.column("kid").doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows !== 1n) return false;
      // The key that signs until the new one activates retires at that moment.
      await trx
        .updateTable("signing_keys")
        .set({ retired_at: key.activatesAt })
        .where("kid", "!=", key.kid)
        .where("retired_at", "is", null)
        .execute();
      return true;
    });
  }

  async listRevokedSince(since: number, now: number): Promise<RevokedSession[]> {
    const rows = await this.db
      .selectFrom("revocations")
      .select(["session_id", "until"])
      .where("revoked_at", ">=", since)
      .where("until", ">", now)
      .orderBy("revoked_at")
      .orderBy("session_id")
      .execute();
    return rows.map((r) => ({ sessionId: r.session_id, accessExpiresAt: num(r.until) }));
  }

  async markEmailVerified(userId: string, now: number): Promise<UserRecord | undefined> {
    const row = await this.db
      .updateTable("users")
      .set((eb) => ({ email_verified_at: eb.fn.coalesce("email_verified_at", eb.val(now)), updated_at: now }))
      .where("id", "=", userId)
      .returningAll()
      .executeTakeFirst();
    return row && toUser(row);
  }

  async changeEmail(userId: string, email: string, now: number): Promise<UserRecord> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable("users")
          .set({ email, email_verified_at: now, updated_at: now })
          .where("id", "=", userId)
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx.updateTable("link_tokens").set({ used_at: now }).where("user_id", "=", userId).where("used_at", "is", null).execute();
        return toUser(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTakenError("email already registered");
      throw error;
    }
  }

  deleteUser(userId: string, now: number): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const revoked = await revokeIn(trx, "account_deleted", now, (q) => q.where("user_id", "=", userId));
      await trx.deleteFrom("link_tokens").where("user_id", "=", userId).execute();
      await trx.deleteFrom("sessions").where("user_id", "=", userId).execute();
      await trx.deleteFrom("users").where("id", "=", userId).execute();
      return revoked;
    });
  }

  async createLinkToken(token: LinkTokenRecord): Promise<void> {
    await this.db
      .insertInto("link_tokens")
      .values({
        id: token.id,
        user_id: token.userId,
        purpose: token.purpose,
        email: token.email,
        secret_hash: token.secretHash,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        used_at: token.usedAt,
      })
      .execute();
  }

  async useLinkToken(id: string, secretHash: string, purpose: LinkPurpose, now: number): Promise<LinkTokenRecord | undefined> {
    // One conditional UPDATE decides: of two clicks at once, exactly one matches an unused row.
    const row = await this.db
      .updateTable("link_tokens")
      .set({ used_at: now })
      .where("id", "=", id)
      .where("secret_hash", "=", secretHash)
      .where("purpose", "=", purpose)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .returningAll()
      .executeTakeFirst();
    return row && toLinkToken(row);
  }

  async voidLinkTokens(userId: string, now: number, purposes?: readonly LinkPurpose[]): Promise<void> {
    let query = this.db.updateTable("link_tokens").set({ used_at: now }).where("user_id", "=", userId).where("used_at", "is", null);
    if (purposes) query = query.where("purpose", "in", [...purposes]);
    await query.execute();
  }

  async queueMail(
    mail: Pick<OutboxMail, "id" | "kind" | "recipient" | "payload" | "subject" | "textBody" | "htmlBody" | "createdAt">,
  ): Promise<void> {
    await this.db
      .insertInto("mail_outbox")
      .values({
        id: mail.id,
        kind: mail.kind,
        recipient: mail.recipient,
        payload: mail.payload,
        subject: mail.subject,
        text_body: mail.textBody,
        html_body: mail.htmlBody,
        created_at: mail.createdAt,
        attempts: 0,
        next_attempt_at: mail.createdAt,
      })
      .execute();
  }

  async claimMail(now: number, leaseMs: number, limit: number): Promise<OutboxMail[]> {
    const due = await this.db
      .selectFrom("mail_outbox")
      .select("id")
      .where("sent_at", "is", null)
      .where("failed_at", "is", null)
      .where("next_attempt_at", "<=", now)
      .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<=", now)]))
      .orderBy("next_attempt_at")
      .limit(limit)
      .execute();
    const claimed: OutboxMail[] = [];
    for (const { id } of due) {
      // The claim itself is conditional: another instance that read the same row loses here.
      const row = await this.db
        .updateTable("mail_outbox")
        .set((eb) => ({ lease_until: now + leaseMs, attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .where("sent_at", "is", null)
        .where("failed_at", "is", null)
        .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<=", now)]))
        .returningAll()
        .executeTakeFirst();
      if (row) claimed.push(toOutboxMail(row));
    }
    return claimed;
  }

  async storeComposedMail(id: string, mail: { recipient: string; subject: string; textBody: string; htmlBody: string }): Promise<void> {
    await this.db
      .updateTable("mail_outbox")
      .set({ recipient: mail.recipient, subject: mail.subject, text_body: mail.textBody, html_body: mail.htmlBody, payload: null })
      .where("id", "=", id)
      .execute();
  }

  async retryMail(id: string, nextAttemptAt: number, error: string): Promise<void> {
    await this.db
      .updateTable("mail_outbox")
      .set({ next_attempt_at: nextAttemptAt, lease_until: null, last_error: error.slice(0, 1000) })
      .where("id", "=", id)
      .execute();
  }

  async finishMail(id: string, outcome: { sentAt: number } | { failedAt: number; error: string }): Promise<void> {
    const cleared = { subject: null, text_body: null, html_body: null, payload: null, lease_until: null };
    await this.db
      .updateTable("mail_outbox")
      .set(
        "sentAt" in outcome
          ? { ...cleared, sent_at: outcome.sentAt }
          : { ...cleared, failed_at: outcome.failedAt, last_error: outcome.error.slice(0, 1000) },
      )
      .where("id", "=", id)
      .execute();
  }

  async reauthenticateSession(sessionId: string, authTime: number, amr: readonly string[]): Promise<boolean> {
    const result = await this.db
      .updateTable("sessions")
      .set({ auth_time: authTime, amr: JSON.stringify(amr) })
      .where("id", "=", sessionId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async addPasskey(passkey: PasskeyRecord): Promise<void> {
    await this.db
      .insertInto("passkeys")
      .values({
        id: passkey.id,
        user_id: passkey.userId,
        name: passkey.name,
        public_key: passkey.publicKey,
        counter: passkey.counter,
        transports: JSON.stringify(passkey.transports),
        device_type: passkey.deviceType,
        backed_up: passkey.backedUp ? 1 : 0,
        created_at: passkey.createdAt,
        last_used_at: passkey.lastUsedAt,
      })
      .execute();
  }

  async findPasskey(id: string): Promise<PasskeyRecord | undefined> {
    const row = await this.db.selectFrom("passkeys").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toPasskey(row);
  }

  async listPasskeys(userId: string): Promise<PasskeyRecord[]> {
    const rows = await this.db.selectFrom("passkeys").selectAll().where("user_id", "=", userId).orderBy("created_at").execute();
    return rows.map(toPasskey);
  }

  async usePasskey(id: string, counter: number, now: number): Promise<void> {
    await this.db.updateTable("passkeys").set({ counter, last_used_at: now }).where("id", "=", id).execute();
  }

  async removePasskey(userId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom("passkeys").where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async saveChallenge(challenge: {
    id: string;
    purpose: ChallengePurpose;
    userId: string | null;
    challenge: string;
    expiresAt: number;
  }): Promise<void> {
    await this.db
      .insertInto("webauthn_challenges")
      .values({
        id: challenge.id,
        purpose: challenge.purpose,
        user_id: challenge.userId,
        challenge: challenge.challenge,
        expires_at: challenge.expiresAt,
      })
      .execute();
  }

  async useChallenge(
    id: string,
    purpose: ChallengePurpose,
    now: number,
  ): Promise<{ challenge: string; userId: string | null } | undefined> {
    const row = await this.db
      .updateTable("webauthn_challenges")
      .set({ used_at: now })
      .where("id", "=", id)
      .where("purpose", "=", purpose)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .returning(["challenge", "user_id"])
      .executeTakeFirst();
    return row && { challenge: row.challenge, userId: row.user_id };
  }

  async savePendingTotp(totp: TotpRecord): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom("totp_factors").select("enabled_at").where("user_id", "=", totp.userId).executeTakeFirst();
      if (existing && existing.enabled_at !== null) return false;
      await trx.deleteFrom("totp_factors").where("user_id", "=", totp.userId).execute();
      await trx
        .insertInto("totp_factors")
        .values({
          user_id: totp.userId,
          secret_sealed: totp.secretSealed,
          enabled_at: null,
          last_step: null,
          failures: 0,
          created_at: totp.createdAt,
        })
        .execute();
      return true;
    });
  }

  async findTotp(userId: string): Promise<TotpRecord | undefined> {
    const row = await this.db.selectFrom("totp_factors").selectAll().where("user_id", "=", userId).executeTakeFirst();
    return row && toTotp(row);
  }

  async acceptTotpStep(userId: string, step: number, now: number, enable: boolean): Promise<boolean> {
    let query = this.db
      .updateTable("totp_factors")
      .set((eb) => ({ last_step: step, failures: 0, enabled_at: enable ? now : eb.ref("enabled_at") }))
      .where("user_id", "=", userId)
      .where((w) => w.or([w("last_step", "is", null), w("last_step", "<", step)]));
    query = enable ? query.where("enabled_at", "is", null) : query.where("enabled_at", "is not", null);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async countTotpFailure(userId: string): Promise<number> {
    const row = await this.db
      .updateTable("totp_factors")
      .set((eb) => ({ failures: eb("failures", "+", 1) }))
      .where("user_id", "=", userId)
      .returning("failures")
      .executeTakeFirst();
    return row ? num(row.failures) : 0;
  }

  async deleteTotp(userId: string): Promise<void> {
    await this.db.deleteFrom("totp_factors").where("user_id", "=", userId).execute();
  }

  async replaceRecoveryCodes(userId: string, codeHashes: readonly string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
      if (codeHashes.length > 0) {
        await trx
          .insertInto("recovery_codes")
          .values(codeHashes.map((hash) => ({ id: randomUUID(), user_id: userId, code_hash: hash, used_at: null })))
          .execute();
      }
    });
  }

  async useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable("recovery_codes")
      .set({ used_at: now })
      .where("user_id", "=", userId)
      .where("code_hash", "=", codeHash)
      .where("used_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) >= 1;
  }

  async countRecoveryCodes(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom("recovery_codes")
      .select((eb) => eb.fn.countAll<number | string>().as("count"))
      .where("user_id", "=", userId)
      .where("used_at", "is", null)
      .executeTakeFirst();
    return row ? num(row.count) : 0;
  }

  async deleteRecoveryCodes(userId: string): Promise<void> {
    await this.db.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
  }

  async createMfaToken(token: MfaTokenRecord): Promise<void> {
    await this.db
      .insertInto("mfa_tokens")
      .values({
        id: token.id,
        user_id: token.userId,
        context: token.context,
        expires_at: token.expiresAt,
        used_at: token.usedAt,
        failures: token.failures,
      })
      .execute();
  }

  async findMfaToken(id: string, now: number, maxFailures: number): Promise<MfaTokenRecord | undefined> {
    const row = await this.db
      .selectFrom("mfa_tokens")
      .selectAll()
      .where("id", "=", id)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .where("failures", "<", maxFailures)
      .executeTakeFirst();
    return row && toMfaToken(row);
  }

  async useMfaToken(id: string, now: number, maxFailures: number): Promise<MfaTokenRecord | undefined> {
    const row = await this.db
      .updateTable("mfa_tokens")
      .set({ used_at: now })
      .where("id", "=", id)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .where("failures", "<", maxFailures)
      .returningAll()
      .executeTakeFirst();
    return row && toMfaToken(row);
  }

  async countMfaTokenFailure(id: string): Promise<number> {
    const row = await this.db
      .updateTable("mfa_tokens")
      .set((eb) => ({ failures: eb("failures", "+", 1) }))
      .where("id", "=", id)
      .returning("failures")
      .executeTakeFirst();
    return row ? num(row.failures) : 0;
  }

  async findIdentity(issuer: string, subject: string): Promise<IdentityRecord | undefined> {
    const row = await this.db
      .selectFrom("identities")
      .selectAll()
      .where("issuer", "=", issuer)
      .where("subject", "=", subject)
      .executeTakeFirst();
    return row && toIdentity(row);
  }

  async listIdentities(userId: string): Promise<IdentityRecord[]> {
    const rows = await this.db.selectFrom("identities").selectAll().where("user_id", "=", userId).orderBy("created_at").execute();
    return rows.map(toIdentity);
  }

  async addIdentity(identity: IdentityRecord): Promise<void> {
    try {
      await this.db
        .insertInto("identities")
        .values({
          id: identity.id,
          user_id: identity.userId,
          provider: identity.provider,
          issuer: identity.issuer,
          subject: identity.subject,
          email: identity.email,
          email_verified: identity.emailVerified ? 1 : 0,
          created_at: identity.createdAt,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new IdentityTakenError("identity already linked");
      throw error;
    }
  }

  async removeIdentity(userId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom("identities").where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  reclaimUnverifiedAccount(userId: string, now: number): Promise<UserRecord> {
    return this.db.transaction().execute(async (trx) => {
      await revokeIn(trx, "account_reclaimed", now, (q) => q.where("user_id", "=", userId));
      for (const table of ["passkeys", "totp_factors", "recovery_codes", "mfa_tokens", "link_tokens"] as const) {
        await trx.deleteFrom(table).where("user_id", "=", userId).execute();
      }
      const row = await trx
        .updateTable("users")
        .set((eb) => ({ password_hash: "", email_verified_at: now, updated_at: now, security_stamp: eb("security_stamp", "+", 1) }))
        .where("id", "=", userId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    });
  }
}
