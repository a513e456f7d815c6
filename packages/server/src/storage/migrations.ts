import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";

/**
 * The schema, as ordered migrations. Written with Kysely's schema builder only, so the same
 * migrations run on SQLite and PostgreSQL. Never edit a migration that has shipped: add one.
 */
const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("users")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("security_stamp", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("suspended_at", "bigint")
        .execute();
      await db.schema
        .createTable("sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("current_hash", "text", (c) => c.notNull())
        .addColumn("previous_hash", "text")
        .addColumn("rotated_at", "bigint")
        .addColumn("generation", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_used_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("security_stamp", "bigint", (c) => c.notNull())
        .addColumn("access_expires_at", "bigint", (c) => c.notNull())
        .addColumn("user_agent", "text")
        .addColumn("ip", "text")
        .addColumn("revoked_at", "bigint")
        .addColumn("revoked_reason", "text")
        .execute();
      await db.schema.createIndex("sessions_user_id").on("sessions").column("user_id").execute();
      // Sessions ended while their access tokens may still be alive: the revocation feed.
      // Kept apart from `sessions` so that `stateless` mode (no session rows) can publish too.
      await db.schema
        .createTable("revocations")
        .addColumn("session_id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("revoked_at", "bigint", (c) => c.notNull())
        .addColumn("until", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("revocations_until").on("revocations").column("until").execute();
      await db.schema
        .createTable("signing_keys")
        .addColumn("kid", "text", (c) => c.primaryKey())
        .addColumn("alg", "text", (c) => c.notNull())
        .addColumn("public_jwk", "text")
        .addColumn("private_sealed", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("activates_at", "bigint", (c) => c.notNull())
        .addColumn("retired_at", "bigint")
        .execute();
    },
  },
  "0002_hardening": {
    async up(db: Kysely<unknown>) {
      // Tokens retired within the reuse grace, as JSON [[hash, retiredAt], …]: any of them (not
      // only the last) still gets the session's current token.
      await db.schema.alterTable("sessions").addColumn("recently_retired", "text").execute();
      // How long a revocation must be remembered beyond the feed: a logged-out stateless
      // refresh token stays refused until its own expiry.
      await db.schema.alterTable("revocations").addColumn("kept_until", "bigint").execute();
      await db.schema.createIndex("revocations_revoked_at").on("revocations").column("revoked_at").execute();
      // The janitor's scans.
      await db.schema.createIndex("sessions_expires_at").on("sessions").column("expires_at").execute();
      await db.schema.createIndex("sessions_last_used_at").on("sessions").column("last_used_at").execute();
      await db.schema.createIndex("revocations_kept_until").on("revocations").column("kept_until").execute();
    },
  },
  "0003_refresh_without_idle_index": {
    async up(db: Kysely<unknown>) {
      // Every refresh writes last_used_at, and keeping this index in step was a tenth of a
      // refresh's CPU. Only the janitor's idle sweep used it: a table scan once per prune
      // interval costs far less than an index write on every refresh.
      await db.schema.dropIndex("sessions_last_used_at").execute();
    },
  },
  "0004_email": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("users").addColumn("email_verified_at", "bigint").execute();
      await db.schema
        .createTable("link_tokens")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("purpose", "text", (c) => c.notNull())
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("secret_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .execute();
      await db.schema.createIndex("link_tokens_user_id").on("link_tokens").column("user_id").execute();
      await db.schema.createIndex("link_tokens_expires_at").on("link_tokens").column("expires_at").execute();
      await db.schema
        .createTable("mail_outbox")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("recipient", "text", (c) => c.notNull())
        .addColumn("payload", "text")
        .addColumn("subject", "text")
        .addColumn("text_body", "text")
        .addColumn("html_body", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("lease_until", "bigint")
        .addColumn("sent_at", "bigint")
        .addColumn("failed_at", "bigint")
        .addColumn("last_error", "text")
        .execute();
      // The worker's scan: mails still to send, by when they are due.
      await db.schema.createIndex("mail_outbox_due").on("mail_outbox").columns(["sent_at", "failed_at", "next_attempt_at"]).execute();
    },
  },
  "0005_passkeys_mfa": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("sessions").addColumn("auth_time", "bigint").execute();
      await db.schema.alterTable("sessions").addColumn("amr", "text").execute();
      await db.schema
        .createTable("passkeys")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("public_key", "text", (c) => c.notNull())
        .addColumn("counter", "bigint", (c) => c.notNull())
        .addColumn("transports", "text")
        .addColumn("device_type", "text", (c) => c.notNull())
        .addColumn("backed_up", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_used_at", "bigint")
        .execute();
      await db.schema.createIndex("passkeys_user_id").on("passkeys").column("user_id").execute();
      await db.schema
        .createTable("webauthn_challenges")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("purpose", "text", (c) => c.notNull())
        .addColumn("user_id", "text")
        .addColumn("challenge", "text", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .execute();
      await db.schema.createIndex("webauthn_challenges_expires_at").on("webauthn_challenges").column("expires_at").execute();
      await db.schema
        .createTable("totp_factors")
        .addColumn("user_id", "text", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
        .addColumn("secret_sealed", "text", (c) => c.notNull())
        .addColumn("enabled_at", "bigint")
        .addColumn("last_step", "bigint")
        .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("recovery_codes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("code_hash", "text", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .execute();
      await db.schema.createIndex("recovery_codes_user_id").on("recovery_codes").column("user_id").execute();
      await db.schema
        .createTable("mfa_tokens")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("context", "text", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("mfa_tokens_expires_at").on("mfa_tokens").column("expires_at").execute();
    },
  },
  "0006_identities": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("identities")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("provider", "text", (c) => c.notNull())
        .addColumn("issuer", "text", (c) => c.notNull())
        .addColumn("subject", "text", (c) => c.notNull())
        .addColumn("email", "text")
        .addColumn("email_verified", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addUniqueConstraint("identities_issuer_subject", ["issuer", "subject"])
        .execute();
      await db.schema.createIndex("identities_user_id").on("identities").column("user_id").execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema up to date. Safe to run on every start and from several instances. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({ db, provider, migrationTableName: "hush_migrations", migrationLockTableName: "hush_migrations_lock" });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** Cheap round trip used by `/health`. */
export async function pingDatabase(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}
