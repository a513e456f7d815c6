import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  EmailTakenError,
  IdentityTakenError,
  type LinkPurpose,
  type LinkTokenRecord,
  type SessionRecord,
  type Storage,
  type UserRecord,
} from "./contract.js";

/**
 * The storage contract's conformance suite. Every database runs it, from one body:
 * `for (const db of DATABASES) runStorageConformance(db.name, db.open)`.
 */
export function runStorageConformance(name: string, open: () => Promise<Storage>, close: (storage: Storage) => Promise<void>): void {
  const user = (email = `${randomUUID()}@example.com`): UserRecord => ({
    id: randomUUID(),
    email,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$x$y",
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    securityStamp: 0,
    suspendedAt: null,
    emailVerifiedAt: null,
  });
  const session = (userId: string, id = randomUUID().slice(0, 22)): SessionRecord => ({
    id,
    userId,
    currentHash: "hash-0",
    previousHash: null,
    rotatedAt: null,
    generation: 0,
    createdAt: 1_700_000_000_000,
    lastUsedAt: 1_700_000_000_000,
    expiresAt: 1_800_000_000_000,
    securityStamp: 0,
    accessExpiresAt: 1_700_000_600_000,
    userAgent: "test",
    ip: "127.0.0.1",
    revokedAt: null,
    revokedReason: null,
    recentlyRetired: [],
    authTime: null,
    amr: ["pwd"],
  });

  describe(`storage contract on ${name}`, () => {
    const withStorage = (body: (storage: Storage) => Promise<void>) => async () => {
      const storage = await open();
      try {
        await storage.migrate();
        await body(storage);
      } finally {
        await close(storage);
      }
    };

    it(
      "migrates idempotently and answers ping",
      withStorage(async (storage) => {
        await storage.migrate();
        await storage.ping();
      }),
    );

    it(
      "creates users with unique emails: of concurrent inserts exactly one wins",
      withStorage(async (storage) => {
        const email = `${randomUUID()}@example.com`;
        const results = await Promise.allSettled([0, 1, 2, 3, 4].map(() => storage.createUser(user(email))));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(EmailTakenError);
        expect((await storage.findUserByEmail(email))?.email).toBe(email);
      }),
    );

    it(
      "re-hashes a password without moving the stamp, and moves it on a change",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        expect(await storage.setPasswordHash(u.id, "rehashed", false, 1)).toBe(0);
        expect(await storage.setPasswordHash(u.id, "changed", true, 2)).toBe(1);
        expect((await storage.findUserById(u.id))?.passwordHash).toBe("changed");
      }),
    );

    it(
      "reads for a refresh (when it can) the same session and user as findSessionWithUser, less what a refresh never uses",
      withStorage(async (storage) => {
        if (!storage.findSessionForRefresh) return;
        const u = { ...user(), suspendedAt: 7, emailVerifiedAt: 8 };
        await storage.createUser(u);
        const s = { ...session(u.id), recentlyRetired: [3, 4], authTime: 5, amr: ["pwd", "otp"] };
        await storage.createSession(s);
        const full = await storage.findSessionWithUser(s.id);
        const narrow = await storage.findSessionForRefresh(s.id);
        if (!full) throw new Error("no session");
        const { accessExpiresAt, userAgent, ip, revokedReason, ...session_ } = full.session;
        const { passwordHash, updatedAt, ...user_ } = full.user;
        expect(narrow).toEqual({ session: session_, user: user_ });
        expect(await storage.findSessionForRefresh("no-such-session-id-00")).toBeUndefined();
      }),
    );

    it(
      "rotates a session exactly once under concurrent calls with the same expected hash",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const s = session(u.id);
        await storage.createSession(s);
        const results = await Promise.all(
          Array.from({ length: 8 }, () =>
            storage.rotateSession({
              sessionId: s.id,
              expectedHash: "hash-0",
              nextHash: "hash-1",
              now: 5,
              accessExpiresAt: 6,
              recentlyRetired: [5],
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const found = await storage.findSessionWithUser(s.id);
        expect(found?.session).toMatchObject({
          currentHash: "hash-1",
          previousHash: "hash-0",
          rotatedAt: 5,
          generation: 1,
          lastUsedAt: 5,
          recentlyRetired: [5],
        });
        expect(found?.user.id).toBe(u.id);
      }),
    );

    it(
      "never rotates a revoked session, and revokes only once",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const s = session(u.id);
        await storage.createSession(s);
        expect(await storage.revokeSession(s.id, "logout", 10)).toBe(true);
        expect(await storage.revokeSession(s.id, "reuse_detected", 11)).toBe(false);
        expect(
          await storage.rotateSession({
            sessionId: s.id,
            expectedHash: "hash-0",
            nextHash: "x",
            now: 12,
            accessExpiresAt: 13,
            recentlyRetired: [],
          }),
        ).toBe(false);
        const found = await storage.findSessionWithUser(s.id);
        expect(found?.session).toMatchObject({ revokedAt: 10, revokedReason: "logout" });
      }),
    );

    it(
      "lists revoked sessions only while their access tokens may live",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const s = session(u.id);
        await storage.createSession(s);
        await storage.revokeSession(s.id, "logout", 10);
        expect(await storage.listRecentlyRevoked(s.accessExpiresAt - 1)).toContainEqual({
          sessionId: s.id,
          accessExpiresAt: s.accessExpiresAt,
        });
        expect(await storage.listRecentlyRevoked(s.accessExpiresAt)).not.toContainEqual(expect.objectContaining({ sessionId: s.id }));
      }),
    );

    it(
      "adds the first signing key once among concurrent starters and retires the old key on rotation",
      withStorage(async (storage) => {
        const key = (kid: string, activatesAt: number) => ({
          kid,
          alg: "EdDSA",
          publicJwk: "{}",
          privateSealed: "v1.x",
          createdAt: 1,
          activatesAt,
          retiredAt: null,
        });
        const inserted = await Promise.all([
          storage.addSigningKey(key("k1", 1), { onlyIfNone: true }),
          storage.addSigningKey(key("k1", 1), { onlyIfNone: true }),
        ]);
        expect(inserted.filter(Boolean)).toHaveLength(1);
        expect(await storage.addSigningKey(key("k2", 1), { onlyIfNone: true })).toBe(false);
        expect(await storage.addSigningKey(key("k3", 100), { onlyIfNone: false })).toBe(true);
        const keys = await storage.listSigningKeys();
        expect(keys.map((k) => [k.kid, k.retiredAt])).toEqual([
          ["k3", null],
          ["k1", 100],
        ]);
      }),
    );

    it(
      "lists the revocations recorded since a time that are still alive, oldest first, without forgetting any",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const early = session(u.id);
        const late = session(u.id);
        await storage.createSession(early);
        await storage.createSession(late);
        await storage.revokeSession(early.id, "logout", 10);
        await storage.revokeSession(late.id, "logout", 20);
        const stateless = randomUUID().slice(0, 22);
        await storage.recordRevocation({ sessionId: stateless, userId: u.id, now: 30, until: late.accessExpiresAt + 1 });
        const ids = (rows: Array<{ sessionId: string }>) => rows.map((r) => r.sessionId);
        expect(ids(await storage.listRevokedSince(20, late.accessExpiresAt - 1))).toEqual([late.id, stateless]);
        expect(await storage.listRevokedSince(0, late.accessExpiresAt - 1)).toEqual([
          { sessionId: early.id, accessExpiresAt: early.accessExpiresAt },
          { sessionId: late.id, accessExpiresAt: late.accessExpiresAt },
          { sessionId: stateless, accessExpiresAt: late.accessExpiresAt + 1 },
        ]);
        // Rows whose access tokens have all expired are left out, but not deleted.
        expect(ids(await storage.listRevokedSince(0, late.accessExpiresAt))).toEqual([stateless]);
        expect(ids(await storage.listRevokedSince(0, late.accessExpiresAt - 1))).toHaveLength(3);
      }),
    );

    it(
      "replaces a password, revokes the other sessions and re-keys the kept one in one step",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const kept = session(u.id);
        const other = session(u.id);
        await storage.createSession(kept);
        await storage.createSession(other);
        const result = await storage.replacePassword({
          userId: u.id,
          passwordHash: "new-hash",
          now: 50,
          keep: { sessionId: kept.id, currentHash: "fresh", accessExpiresAt: 60 },
        });
        expect(result).toEqual({ securityStamp: 1, revoked: [other.id] });
        const after = await storage.findSessionWithUser(kept.id);
        expect(after?.session).toMatchObject({
          currentHash: "fresh",
          securityStamp: 1,
          revokedAt: null,
          previousHash: null,
          recentlyRetired: [],
        });
        expect(after?.user).toMatchObject({ passwordHash: "new-hash", securityStamp: 1 });
        expect((await storage.findSessionWithUser(other.id))?.session.revokedReason).toBe("password_changed");
        expect((await storage.listRecentlyRevoked(0)).map((r) => r.sessionId)).toContain(other.id);
        // From a session that has ended, nothing changes at all.
        const gone = await storage.replacePassword({
          userId: u.id,
          passwordHash: "newer-hash",
          now: 70,
          keep: { sessionId: other.id, currentHash: "x", accessExpiresAt: 80 },
        });
        expect(gone).toBeUndefined();
        expect((await storage.findUserById(u.id))?.passwordHash).toBe("new-hash");
      }),
    );

    it(
      "remembers a revocation until kept_until, past the feed's horizon",
      withStorage(async (storage) => {
        const sid = randomUUID().slice(0, 22);
        expect(await storage.isRevoked(sid)).toBe(false);
        await storage.recordRevocation({ sessionId: sid, userId: "u", now: 10, until: 20, keptUntil: 100 });
        expect(await storage.isRevoked(sid)).toBe(true);
        expect((await storage.listRecentlyRevoked(25)).map((r) => r.sessionId)).not.toContain(sid);
        await storage.pruneExpired(50, { idleMs: 1_000_000, batchSize: 10, maxBatches: 5 });
        expect(await storage.isRevoked(sid)).toBe(true);
        await storage.pruneExpired(100, { idleMs: 1_000_000, batchSize: 10, maxBatches: 5 });
        expect(await storage.isRevoked(sid)).toBe(false);
      }),
    );

    it(
      "prunes ended sessions in bounded batches and never a session that can still refresh",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const now = 1_750_000_000_000;
        const idleMs = 7 * 86_400_000;
        const live = { ...session(u.id), lastUsedAt: now - idleMs + 1, expiresAt: now + 1 };
        const expired = Array.from({ length: 7 }, () => ({ ...session(u.id), expiresAt: now }));
        const idle = Array.from({ length: 5 }, () => ({ ...session(u.id), lastUsedAt: now - idleMs }));
        for (const s of [live, ...expired, ...idle]) await storage.createSession(s);
        const first = await storage.pruneExpired(now, { idleMs, batchSize: 3, maxBatches: 2 });
        expect(first.sessions).toBe(6);
        const second = await storage.pruneExpired(now, { idleMs, batchSize: 3, maxBatches: 10 });
        expect(second.sessions).toBe(6);
        expect(await storage.findSessionWithUser(live.id)).toBeDefined();
        for (const s of [...expired, ...idle]) expect(await storage.findSessionWithUser(s.id)).toBeUndefined();
      }),
    );

    const link = (userId: string, email: string, purpose: LinkPurpose = "reset_password"): LinkTokenRecord => ({
      id: randomUUID().slice(0, 22),
      userId,
      purpose,
      email,
      secretHash: `hash-${randomUUID()}`,
      createdAt: 1_700_000_000_000,
      expiresAt: 1_700_000_900_000,
      usedAt: null,
    });

    it(
      "uses a link token once: of concurrent uses exactly one wins; never for another purpose, a wrong hash or after expiry",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const token = link(u.id, u.email);
        await storage.createLinkToken(token);
        const now = 1_700_000_100_000;
        expect(await storage.useLinkToken(token.id, token.secretHash, "verify_email", now)).toBeUndefined();
        expect(await storage.useLinkToken(token.id, "wrong", "reset_password", now)).toBeUndefined();
        expect(await storage.useLinkToken(token.id, token.secretHash, "reset_password", token.expiresAt)).toBeUndefined();
        const uses = await Promise.all([0, 1, 2, 3, 4].map(() => storage.useLinkToken(token.id, token.secretHash, "reset_password", now)));
        expect(uses.filter((u) => u !== undefined)).toHaveLength(1);
        expect(uses.find((u) => u !== undefined)).toMatchObject({ userId: u.id, email: u.email, purpose: "reset_password" });
      }),
    );

    it(
      "voids a user's links by purpose, or all of them",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const [reset, verify, change] = [
          link(u.id, u.email),
          link(u.id, u.email, "verify_email"),
          link(u.id, "new@example.com", "change_email"),
        ];
        for (const t of [reset, verify, change]) await storage.createLinkToken(t);
        const now = 1_700_000_100_000;
        await storage.voidLinkTokens(u.id, now, ["reset_password"]);
        expect(await storage.useLinkToken(reset.id, reset.secretHash, "reset_password", now)).toBeUndefined();
        await storage.voidLinkTokens(u.id, now);
        expect(await storage.useLinkToken(verify.id, verify.secretHash, "verify_email", now)).toBeUndefined();
        expect(await storage.useLinkToken(change.id, change.secretHash, "change_email", now)).toBeUndefined();
      }),
    );

    it(
      "verifies and changes addresses: a taken address is EmailTakenError, a change voids every link",
      withStorage(async (storage) => {
        const [a, b] = [user(), user()];
        await storage.createUser(a);
        await storage.createUser(b);
        expect((await storage.markEmailVerified(a.id, 5))?.emailVerifiedAt).toBe(5);
        expect((await storage.markEmailVerified(a.id, 9))?.emailVerifiedAt).toBe(5);
        expect(await storage.markEmailVerified(randomUUID(), 9)).toBeUndefined();
        await expect(storage.changeEmail(a.id, b.email, 10)).rejects.toBeInstanceOf(EmailTakenError);
        const pending = link(a.id, a.email);
        await storage.createLinkToken(pending);
        const email = `${randomUUID()}@example.com`;
        expect(await storage.changeEmail(a.id, email, 11)).toMatchObject({ id: a.id, email, emailVerifiedAt: 11 });
        expect(await storage.useLinkToken(pending.id, pending.secretHash, "reset_password", 12)).toBeUndefined();
      }),
    );

    it(
      "deletes a user with their sessions and links, recording the live sessions for the feed",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const [live, ended] = [session(u.id), session(u.id)];
        await storage.createSession(live);
        await storage.createSession(ended);
        await storage.revokeSession(ended.id, "logout", 1_700_000_000_500);
        await storage.createLinkToken(link(u.id, u.email));
        const revoked = await storage.deleteUser(u.id, 1_700_000_001_000);
        expect(revoked).toEqual([live.id]);
        expect(await storage.findUserById(u.id)).toBeUndefined();
        expect(await storage.findSessionWithUser(live.id)).toBeUndefined();
        const feed = await storage.listRecentlyRevoked(1_700_000_001_000);
        expect(feed.map((r) => r.sessionId)).toContain(live.id);
      }),
    );

    it(
      "hands each due mail to one claimant at a time, retries it when due, and clears it when finished",
      withStorage(async (storage) => {
        const mail = (id: string) => ({
          id,
          kind: "test",
          recipient: "someone@example.com",
          payload: null,
          subject: "s",
          textBody: "t",
          htmlBody: "h",
          createdAt: 1_000,
        });
        const ids = Array.from({ length: 6 }, () => randomUUID());
        for (const id of ids) await storage.queueMail(mail(id));
        const claims = await Promise.all([0, 1, 2].map(() => storage.claimMail(1_000, 60_000, 10)));
        const claimed = claims.flat().map((m) => m.id);
        expect(claimed.sort()).toEqual([...ids].sort());
        expect(claims.flat().every((m) => m.attempts === 1)).toBe(true);
        // Held until its lease ends; then anyone may claim it again.
        expect(await storage.claimMail(30_000, 60_000, 10)).toEqual([]);
        const [first, second, third] = ids as [string, string, string];
        await storage.retryMail(first, 5_000, "451 try later");
        expect((await storage.claimMail(4_000, 60_000, 10)).map((m) => m.id)).toEqual([]);
        expect((await storage.claimMail(5_000, 60_000, 10)).map((m) => m.id)).toEqual([first]);
        await storage.finishMail(second, { sentAt: 6_000 });
        await storage.finishMail(third, { failedAt: 6_000, error: "550 no such user" });
        const again = (await storage.claimMail(200_000, 60_000, 10)).map((m) => m.id);
        expect(again).not.toContain(second);
        expect(again).not.toContain(third);
        expect(again).toHaveLength(4);
      }),
    );

    it(
      "keeps WebAuthn challenges single-use and bound to their purpose",
      withStorage(async (storage) => {
        const id = randomUUID();
        await storage.saveChallenge({ id, purpose: "login", userId: null, challenge: id, expiresAt: 2_000 });
        expect(await storage.useChallenge(id, "register", 1_000)).toBeUndefined();
        const uses = await Promise.all([0, 1, 2].map(() => storage.useChallenge(id, "login", 1_000)));
        expect(uses.filter(Boolean)).toHaveLength(1);
        const late = randomUUID();
        await storage.saveChallenge({ id: late, purpose: "login", userId: null, challenge: late, expiresAt: 2_000 });
        expect(await storage.useChallenge(late, "login", 2_000)).toBeUndefined();
      }),
    );

    it(
      "accepts each TOTP step once, enables only a pending factor, and uses recovery codes once",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const totp = { userId: u.id, secretSealed: "sealed", enabledAt: null, lastStep: null, failures: 0, createdAt: 1 };
        expect(await storage.savePendingTotp(totp)).toBe(true);
        expect(await storage.acceptTotpStep(u.id, 10, 5, false)).toBe(false);
        const enables = await Promise.all([0, 1].map(() => storage.acceptTotpStep(u.id, 10, 5, true)));
        expect(enables.filter(Boolean)).toHaveLength(1);
        expect(await storage.savePendingTotp(totp)).toBe(false);
        expect(await storage.acceptTotpStep(u.id, 10, 6, false)).toBe(false);
        expect(await storage.acceptTotpStep(u.id, 9, 6, false)).toBe(false);
        expect(await storage.acceptTotpStep(u.id, 11, 6, false)).toBe(true);
        expect(await storage.countTotpFailure(u.id)).toBe(1);
        expect(await storage.countTotpFailure(u.id)).toBe(2);
        await storage.replaceRecoveryCodes(u.id, ["a", "b"]);
        expect(await storage.countRecoveryCodes(u.id)).toBe(2);
        const uses = await Promise.all([0, 1].map(() => storage.useRecoveryCode(u.id, "a", 7)));
        expect(uses.filter(Boolean)).toHaveLength(1);
        expect(await storage.countRecoveryCodes(u.id)).toBe(1);
        await storage.replaceRecoveryCodes(u.id, ["c"]);
        expect(await storage.useRecoveryCode(u.id, "b", 8)).toBe(false);
      }),
    );

    it(
      "uses an mfaToken once, and not past its failures or lifetime",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const token = (id: string) => ({ id, userId: u.id, context: "{}", expiresAt: 1_000, usedAt: null, failures: 0 });
        await storage.createMfaToken(token("a"));
        const uses = await Promise.all([0, 1, 2].map(() => storage.useMfaToken("a", 500, 5)));
        expect(uses.filter(Boolean)).toHaveLength(1);
        await storage.createMfaToken(token("b"));
        for (let i = 1; i <= 5; i++) expect(await storage.countMfaTokenFailure("b")).toBe(i);
        expect(await storage.findMfaToken("b", 500, 5)).toBeUndefined();
        await storage.createMfaToken(token("c"));
        expect(await storage.useMfaToken("c", 1_000, 5)).toBeUndefined();
      }),
    );

    it(
      "keys identities by issuer and subject, and reclaims an unverified account for its address's owner",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const identity = {
          id: randomUUID(),
          userId: u.id,
          provider: "demo",
          issuer: "https://idp.example",
          subject: "s1",
          email: u.email,
          emailVerified: true,
          createdAt: 1,
        };
        await storage.addIdentity(identity);
        await expect(storage.addIdentity({ ...identity, id: randomUUID() })).rejects.toBeInstanceOf(IdentityTakenError);
        expect((await storage.findIdentity("https://idp.example", "s1"))?.userId).toBe(u.id);
        const live = session(u.id);
        await storage.createSession(live);
        const reclaimed = await storage.reclaimUnverifiedAccount(u.id, 1_700_000_002_000);
        expect(reclaimed).toMatchObject({ passwordHash: "", emailVerifiedAt: 1_700_000_002_000, securityStamp: 1 });
        expect((await storage.findSessionWithUser(live.id))?.session.revokedAt).toBe(1_700_000_002_000);
        expect(await storage.removeIdentity(u.id, identity.id)).toBe(true);
        expect(await storage.listIdentities(u.id)).toEqual([]);
      }),
    );
  });
}
