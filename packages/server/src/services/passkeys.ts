import { randomBytes } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { ResolvedOptions } from "../config/options.js";
import { HushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { Mailer } from "../mail/index.js";
import type { PasskeyRecord, Storage, UserRecord } from "../storage/contract.js";
import type { RequestMeta } from "./request-meta.js";

/**
 * `@simplewebauthn/server`, loaded at the first ceremony: it is about 8 MB of resident memory
 * that a server whose users never register a passkey would otherwise carry.
 */
let webauthn: Promise<typeof import("@simplewebauthn/server")> | undefined;
const loadWebauthn = () => {
  webauthn ??= import("@simplewebauthn/server");
  return webauthn;
};

/** Challenges live five minutes. */
const CHALLENGE_TTL_MS = 5 * 60 * 1000;
const MAX_NAME_LENGTH = 64;

/** One code for every failed ceremony, whatever failed: nothing to learn from the answer. */
const invalidPasskey = (message = "The passkey could not be verified.") => new HushError("invalid_passkey", message);

/** A passkey as the API shows it. */
export interface PublicPasskey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  backedUp: boolean;
}

export function publicPasskey(passkey: PasskeyRecord): PublicPasskey {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: new Date(passkey.createdAt).toISOString(),
    lastUsedAt: passkey.lastUsedAt === null ? null : new Date(passkey.lastUsedAt).toISOString(),
    backedUp: passkey.backedUp,
  };
}

/** What an assertion proved: whose passkey, and the RFC 8176 methods it stands for. */
export interface PasskeyAssertion {
  user: UserRecord;
  passkey: PasskeyRecord;
  amr: string[];
  userVerified: boolean;
}

/** The challenge a client's response answers (from its `clientDataJSON`), or `undefined`. */
function challengeOf(response: { response?: { clientDataJSON?: unknown } }): string | undefined {
  const data = response.response?.clientDataJSON;
  if (typeof data !== "string" || data.length > 4096) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data, "base64url").toString("utf8"));
    const challenge = (parsed as { challenge?: unknown }).challenge;
    return typeof challenge === "string" ? challenge : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Passkeys (WebAuthn, through `@simplewebauthn/server`): registration and sign-in ceremonies
 * whose challenges are kept in the database — single-use, five minutes, bound to their purpose
 * and (for registration) user — so any instance can finish a ceremony another began. The
 * accepted origins are the allowed origins; the RP ID is `rpId`.
 */
export class Passkeys {
  constructor(
    private readonly storage: Storage,
    private readonly mailer: Mailer,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
  ) {}

  private get origins(): string[] {
    return [...this.options.allowedOrigins];
  }

  /** Creation options for a new passkey of `user`: a resident key, user verification preferred, existing ones excluded. */
  async registrationOptions(user: UserRecord): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.storage.listPasskeys(user.id);
    const { generateRegistrationOptions } = await loadWebauthn();
    const options = await generateRegistrationOptions({
      rpName: this.options.rpName,
      rpID: this.options.rpId,
      userName: user.email,
      userID: new TextEncoder().encode(user.id),
      challenge: randomBytes(32),
      attestationType: "none",
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports as never })),
      authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
    });
    await this.saveChallenge(options.challenge, "register", user.id);
    return options;
  }

  /** Finishes a registration begun by `user`; the passkey is theirs from now on. */
  async register(
    user: UserRecord,
    response: RegistrationResponseJSON,
    name: string | undefined,
    meta: RequestMeta,
  ): Promise<PasskeyRecord> {
    const challenge = challengeOf(response);
    const now = this.options.now();
    const stored = challenge && (await this.storage.useChallenge(challenge, "register", now));
    if (!stored || stored.userId !== user.id) throw invalidPasskey();
    const { verifyRegistrationResponse } = await loadWebauthn();
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: stored.challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.options.rpId,
        requireUserVerification: false,
      });
    } catch {
      throw invalidPasskey();
    }
    if (!verified.verified) throw invalidPasskey();
    const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
    if (await this.storage.findPasskey(credential.id)) throw invalidPasskey("This passkey is already registered.");
    const passkey: PasskeyRecord = {
      id: credential.id,
      userId: user.id,
      name: (name?.trim() || `Passkey ${new Date(now).toISOString().slice(0, 10)}`).slice(0, MAX_NAME_LENGTH),
      publicKey: Buffer.from(credential.publicKey).toString("base64url"),
      counter: credential.counter,
      transports: credential.transports ?? response.response.transports ?? [],
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
      createdAt: now,
      lastUsedAt: null,
    };
    await this.storage.addPasskey(passkey);
    this.events.emit({ type: "passkey_added", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    await this.mailer.queue("security_notice", user.email, { change: `A passkey ("${passkey.name}") was added to your account.` });
    return passkey;
  }

  /** Request options for discoverable credentials (no user named: works with autofill), and the challenge's id. */
  async authenticationOptions(): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challengeId: string }> {
    const { generateAuthenticationOptions } = await loadWebauthn();
    const options = await generateAuthenticationOptions({
      rpID: this.options.rpId,
      challenge: randomBytes(32),
      userVerification: "preferred",
      allowCredentials: [],
    });
    await this.saveChallenge(options.challenge, "login", null);
    return { options, challengeId: options.challenge };
  }

  /**
   * Checks an assertion against a sign-in challenge: the origin, RP ID hash, user presence,
   * signature and counter. A counter that goes backwards refuses it and emits
   * `passkey_clone_suspected`. `expectedUserId` binds it to one user (re-authentication).
   */
  async authenticate(
    challengeId: string,
    response: AuthenticationResponseJSON,
    meta: RequestMeta,
    expectedUserId?: string,
  ): Promise<PasskeyAssertion> {
    const now = this.options.now();
    const stored = await this.storage.useChallenge(challengeId, "login", now);
    if (!stored || challengeOf(response) !== stored.challenge) throw invalidPasskey();
    const passkey = typeof response.id === "string" ? await this.storage.findPasskey(response.id) : undefined;
    if (!passkey || (expectedUserId !== undefined && passkey.userId !== expectedUserId)) throw invalidPasskey();
    const user = await this.storage.findUserById(passkey.userId);
    if (!user) throw invalidPasskey();
    if (user.suspendedAt !== null) throw new HushError("account_suspended", "This account is suspended.");
    const { verifyAuthenticationResponse } = await loadWebauthn();
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: stored.challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.options.rpId,
        credential: {
          id: passkey.id,
          publicKey: new Uint8Array(Buffer.from(passkey.publicKey, "base64url")),
          counter: passkey.counter,
          transports: passkey.transports as never,
        },
        requireUserVerification: false,
      });
    } catch (error) {
      if (error instanceof Error && /counter value/i.test(error.message)) {
        this.events.emit({
          type: "passkey_clone_suspected",
          userId: user.id,
          email: user.email,
          ip: meta.ip,
          userAgent: meta.userAgent ?? undefined,
        });
      }
      throw invalidPasskey();
    }
    if (!verified.verified) throw invalidPasskey();
    const { newCounter, userVerified } = verified.authenticationInfo;
    await this.storage.usePasskey(passkey.id, newCounter, now);
    const key = passkey.deviceType === "multiDevice" ? "swk" : "hwk";
    return { user, passkey, userVerified, amr: userVerified ? [key, "user", "mfa"] : [key] };
  }

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.storage.listPasskeys(userId);
  }

  async remove(user: UserRecord, id: string, meta: RequestMeta): Promise<void> {
    if (!(await this.storage.removePasskey(user.id, id))) throw new HushError("not_found", "No such passkey.");
    this.events.emit({ type: "passkey_removed", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    await this.mailer.queue("security_notice", user.email, { change: "A passkey was removed from your account." });
  }

  private async saveChallenge(challenge: string, purpose: "register" | "login", userId: string | null): Promise<void> {
    await this.storage.saveChallenge({ id: challenge, purpose, userId, challenge, expiresAt: this.options.now() + CHALLENGE_TTL_MS });
  }
}
