import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { isSigningAlgorithm } from "@hush/protocol";
import type { SigningAlgorithm } from "../config/options.js";
import type { SigningKeyRecord, Storage } from "../storage/contract.js";
import type { SecretBox } from "./secret-box.js";

/** A key ready to sign or verify: imported once, bound to exactly one algorithm. */
export interface LoadedKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  /** The public half (the secret itself for HS256). */
  readonly verifyKey: KeyObject;
  readonly activatesAt: number;
  readonly retiredAt: number | null;
  /** The public JWK, as published; `null` for HS256. */
  readonly publicJwk: Record<string, unknown> | null;
}

/** Seconds a verifier may be behind when it checks `exp`; a retired key stays published this much longer. */
const PUBLISH_LEEWAY_SECONDS = 60;

function generateKeyMaterial(alg: SigningAlgorithm): { privateDer: Uint8Array; publicKey: KeyObject | null } {
  if (alg === "HS256") return { privateDer: randomBytes(32), publicKey: null };
  const pair =
    alg === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : alg === "ES256"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateDer: pair.privateKey.export({ format: "der", type: "pkcs8" }), publicKey: pair.publicKey };
}

/**
 * The signing keys of every instance, kept in the database with private parts sealed under
 * HUSH_SECRET. The newest key whose activation time has come signs; every key is published
 * in the JWKS from creation until the tokens it signed have all expired, so a rotation (which
 * publishes the next key `keyActivationDelaySeconds` before it signs) never logs anyone out.
 */
export class KeyRing {
  private keys: LoadedKey[] = [];
  private jwksCache: { until: number; body: string } | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly box: SecretBox,
    private readonly settings: {
      algorithm: SigningAlgorithm;
      accessTokenTtlSeconds: number;
      keyActivationDelaySeconds: number;
      /** Key for deriving the first key's id; derived from HUSH_SECRET, so ids differ per deployment. */
      kidSeed: Uint8Array;
      now: () => number;
    },
  ) {}

  /**
   * Makes sure a key of the configured algorithm signs, without ever pulling a key out from
   * under a running instance: on an empty database it creates one that signs at once; when
   * the database's current key has another algorithm (HUSH_SIGNING_ALG changed) it publishes
   * one of the configured algorithm that takes over after `keyActivationDelaySeconds`, like
   * `rotate()`. Called by a server at start, never by commands that do not sign.
   */
  async initialize(): Promise<void> {
    await this.reload();
    if (this.keys.length === 0) {
      await this.addDeterministicKey(this.settings.now());
      return;
    }
    const now = this.settings.now();
    const wanted = this.settings.algorithm;
    const pending = this.keys.some((k) => k.alg === wanted && k.retiredAt === null);
    if (this.signingKey(now).alg !== wanted && !pending) {
      await this.addDeterministicKey(now + this.settings.keyActivationDelaySeconds * 1000);
    }
  }

  /**
   * Creates the first key when the database has none at all (`hush migrate`, `hush keys`):
   * nothing can be signing yet, so nothing is retired. Returns whether it created one.
   */
  async ensureFirstKey(): Promise<boolean> {
    await this.reload();
    if (this.keys.length > 0) return false;
    await this.addDeterministicKey(this.settings.now());
    return true;
  }

  /**
   * Adds a key of the configured algorithm unless an unretired one exists. Its kid is derived
   * from the shared secret and the current state: instances starting together compute the
   * same one, and the unique kid (with the storage's `onlyIfNone`) lets exactly one insert it.
   */
  private async addDeterministicKey(activatesAt: number): Promise<void> {
    const newest = this.keys[0]?.kid ?? "none";
    const kid = createHmac("sha256", this.settings.kidSeed).update(`${this.settings.algorithm}|${newest}`).digest("base64url").slice(0, 16);
    await this.storage.addSigningKey(this.createRecord(kid, activatesAt), { onlyIfNone: true });
    await this.reload();
  }

  /** Re-reads the keys from the database (another instance may have rotated). */
  async reload(): Promise<void> {
    const records = await this.storage.listSigningKeys();
    const known = new Map(this.keys.map((k) => [k.kid, k]));
    this.keys = records
      .filter((r): r is SigningKeyRecord & { alg: SigningAlgorithm } => isSigningAlgorithm(r.alg))
      .map((r) => {
        const cached = known.get(r.kid);
        return cached && cached.retiredAt === r.retiredAt ? cached : this.load(r);
      });
    this.jwksCache = undefined;
  }

  /** Re-reads the keys every `seconds` in the background, until `stop()`. */
  startReloading(seconds: number, onError: (error: unknown) => void): void {
    this.reloadTimer = setInterval(() => this.reload().catch(onError), seconds * 1000);
    this.reloadTimer.unref();
  }

  stop(): void {
    clearInterval(this.reloadTimer);
  }

  /**
   * Creates the next key of the configured algorithm: published at once, signing after
   * `keyActivationDelaySeconds`, when the current key retires.
   */
  async rotate(): Promise<LoadedKey> {
    const now = this.settings.now();
    const record = this.createRecord(randomBytes(12).toString("base64url"), now + this.settings.keyActivationDelaySeconds * 1000);
    await this.storage.addSigningKey(record, { onlyIfNone: false });
    await this.reload();
    const key = this.keys.find((k) => k.kid === record.kid);
    if (!key) throw new Error("rotated key was not stored");
    return key;
  }

  /**
   * The key that signs at `now`: the newest one already active and not yet retired — whatever
   * its algorithm, so every instance follows the database's current key after each reload.
   * A retired key never signs: it is only published until its tokens have expired.
   */
  signingKey(now: number): LoadedKey {
    for (const key of this.keys) if (key.activatesAt <= now && (key.retiredAt === null || key.retiredAt > now)) return key;
    // Only reachable if the clock moved back past every activation: the oldest unretired key.
    const fallback = this.keys.findLast((k) => k.retiredAt === null);
    if (!fallback) throw new Error("no signing key loaded");
    return fallback;
  }

  /** The key a token names by `kid`, if it is still published. */
  verificationKey(kid: string, now: number): LoadedKey | undefined {
    const key = this.keys.find((k) => k.kid === kid);
    return key && this.isPublished(key, now) ? key : undefined;
  }

  /** Every key with its status, newest first (for `hush keys list`). */
  list(now: number): Array<LoadedKey & { status: "next" | "current" | "retired" | "expired" }> {
    const current = this.signingKey(now);
    return this.keys.map((k) => ({
      ...k,
      status: k === current ? "current" : k.activatesAt > now ? "next" : this.isPublished(k, now) ? "retired" : "expired",
    }));
  }

  /** The JWKS document body, cached until the set of published keys can next change. */
  jwksJson(now: number): string {
    if (this.jwksCache && now < this.jwksCache.until) return this.jwksCache.body;
    const published = this.keys.filter((k) => k.publicJwk && this.isPublished(k, now));
    const body = JSON.stringify({ keys: published.map((k) => k.publicJwk) });
    const ends = published.map((k) => this.publishedUntil(k)).filter((t): t is number => t !== undefined && t > now);
    this.jwksCache = { until: Math.min(now + 60_000, ...ends), body };
    return body;
  }

  private publishedUntil(key: LoadedKey): number | undefined {
    if (key.retiredAt === null) return undefined;
    return key.retiredAt + (this.settings.accessTokenTtlSeconds + PUBLISH_LEEWAY_SECONDS) * 1000;
  }

  private isPublished(key: LoadedKey, now: number): boolean {
    const until = this.publishedUntil(key);
    return until === undefined || now < until;
  }

  private createRecord(kid: string, activatesAt: number): SigningKeyRecord {
    const alg = this.settings.algorithm;
    const { privateDer, publicKey } = generateKeyMaterial(alg);
    const publicJwk = publicKey ? JSON.stringify({ ...publicKey.export({ format: "jwk" }), kid, alg, use: "sig" }) : null;
    return {
      kid,
      alg,
      publicJwk,
      privateSealed: this.box.seal(privateDer, kid),
      createdAt: this.settings.now(),
      activatesAt,
      retiredAt: null,
    };
  }

  private load(record: SigningKeyRecord & { alg: SigningAlgorithm }): LoadedKey {
    const material = Buffer.from(this.box.open(record.privateSealed, record.kid));
    if (record.alg === "HS256") {
      const secret = createSecretKey(material);
      return { ...base(record), privateKey: secret, verifyKey: secret, publicJwk: null };
    }
    const privateKey = createPrivateKey({ key: material, format: "der", type: "pkcs8" });
    return {
      ...base(record),
      privateKey,
      verifyKey: createPublicKey(privateKey),
      publicJwk: record.publicJwk ? (JSON.parse(record.publicJwk) as Record<string, unknown>) : null,
    };
  }
}

function base(record: SigningKeyRecord & { alg: SigningAlgorithm }) {
  return { kid: record.kid, alg: record.alg, activatesAt: record.activatesAt, retiredAt: record.retiredAt };
}
