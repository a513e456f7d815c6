import { randomBytes, randomUUID } from "node:crypto";
import * as oidc from "openid-client";
import { isLoopbackHost, type ProviderConfig, type ResolvedOptions } from "../config/options.js";
import { HushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { SecretBox } from "../keys/secret-box.js";
import type { Mailer } from "../mail/index.js";
import { EmailTakenError, type IdentityRecord, IdentityTakenError, type Storage, type UserRecord } from "../storage/contract.js";
import { sha256Base64url } from "../tokens/digest.js";
import type { RequestMeta } from "./request-meta.js";
import type { SignInGate } from "./sign-in-gate.js";
import type { IssuedTokens } from "./token-issuer.js";

/** The state cookie and link tickets live ten and five minutes. */
export const OAUTH_STATE_TTL_SECONDS = 600;
const LINK_TICKET_TTL_MS = 5 * 60 * 1000;
/** RFC 8176 has no value for a federated sign-in; Hush writes `fed`. */
const FEDERATED_AMR = "fed";

/** Why a provider sign-in failed, as the app's sign-in page gets it (`#error=`). */
export type ProviderFailure = "oauth_denied" | "account_exists" | "oauth_failed";

/** A failure of the callback, carried to the redirect. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly code: ProviderFailure,
    message: string,
  ) {
    super(message);
  }
}

/** What the state cookie holds, sealed: the checks of this one flow, and where it goes after. */
interface FlowState {
  provider: string;
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  /** A link flow: the user the identity joins. */
  linkUserId?: string;
  expiresAt: number;
}

/** What a provider said about the person, after every check. */
interface ProviderProfile {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
}

/** Presets: where the provider is and whether its verified emails may join accounts. */
const PRESETS: Record<string, { issuer?: string; label: string; trustEmail: boolean; github?: true }> = {
  google: { issuer: "https://accounts.google.com", label: "Google", trustEmail: true },
  microsoft: { issuer: "https://login.microsoftonline.com/common/v2.0", label: "Microsoft", trustEmail: false },
  github: { label: "GitHub", trustEmail: true, github: true },
};

const GITHUB = {
  issuer: "https://github.com",
  authorization_endpoint: "https://github.com/login/oauth/authorize",
  token_endpoint: "https://github.com/login/oauth/access_token",
};

/**
 * A path on the app to return to, or `/`: no scheme, no `//` or backslash, no control
 * character (a browser strips tabs and newlines, so `/\t/evil` would become `//evil`), in any
 * percent-encoding.
 */
export function safeReturnTo(value: string | null | undefined): string {
  if (!value || value.length > 2048) return "/";
  let decoded = value;
  for (let i = 0; i < 3; i++) {
    try {
      const next = decodeURIComponent(decoded);
      if (next === decoded) break;
      decoded = next;
    } catch {
      return "/";
    }
  }
  for (const text of [value, decoded]) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
    if (!text.startsWith("/") || text.startsWith("//") || /[\\\u0000-\u001f\u007f]/.test(text) || /^\/[^/]*:/.test(text)) return "/";
  }
  return value;
}

const hashOf = sha256Base64url;

/**
 * Sign-in with other providers (docs/api.md, Providers): OpenID Connect through `openid-client`
 * — discovery, the authorization code flow with PKCE (S256), `state` and `nonce`, the ID token
 * verified against the provider's JWKS (also from the token endpoint) — and GitHub's OAuth 2
 * with its user API. Accounts are joined by verified email only as the contract says.
 */
export class Providers {
  private readonly configs = new Map<string, Promise<oidc.Configuration>>();

  constructor(
    private readonly storage: Storage,
    private readonly box: SecretBox,
    private readonly gate: SignInGate,
    private readonly mailer: Mailer,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
  ) {}

  /** The configured providers, for buttons. */
  list(): { name: string; label: string }[] {
    return Object.entries(this.options.oauthProviders).map(([name, p]) => ({ name, label: p.label ?? PRESETS[name]?.label ?? name }));
  }

  has(name: string): boolean {
    return Object.hasOwn(this.options.oauthProviders, name);
  }

  redirectUri(name: string): string {
    return `${this.options.issuer}/auth/oauth/${encodeURIComponent(name)}/callback`;
  }

  /** The provider's authorization URL and the sealed state cookie's value. */
  async start(name: string, returnTo: string | null, linkTicket: string | null): Promise<{ url: string; cookie: string }> {
    const provider = this.provider(name);
    const config = await this.configOf(name);
    let linkUserId: string | undefined;
    if (linkTicket) {
      const ticket = await this.storage.useChallenge(hashOf(linkTicket), "link", this.options.now());
      if (!ticket?.userId || ticket.challenge !== name)
        throw new ProviderError("oauth_failed", "The link ticket is invalid or has expired.");
      linkUserId = ticket.userId;
    }
    const flow: FlowState = {
      provider: name,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      returnTo: safeReturnTo(returnTo),
      linkUserId,
      expiresAt: this.options.now() + OAUTH_STATE_TTL_SECONDS * 1000,
    };
    // The state is also remembered server-side, so that one of two racing callbacks wins.
    await this.storage.saveChallenge({
      id: hashOf(flow.state),
      purpose: "oauth",
      userId: null,
      challenge: name,
      expiresAt: flow.expiresAt,
    });
    const github = PRESETS[name]?.github && !provider.issuer;
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(name),
      scope: provider.scopes ?? (github ? "read:user user:email" : "openid email profile"),
      state: flow.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: "S256",
      ...(github ? {} : { nonce: flow.nonce }),
    });
    return { url: url.href, cookie: this.box.seal(new TextEncoder().encode(JSON.stringify(flow)), "hush/oauth-state") };
  }

  /** A single-use, five-minute ticket for `…/start?link=` that links the provider to `user`. */
  async linkTicket(user: UserRecord, name: string): Promise<string> {
    this.provider(name);
    const ticket = randomBytes(32).toString("base64url");
    await this.storage.saveChallenge({
      id: hashOf(ticket),
      purpose: "link",
      userId: user.id,
      challenge: name,
      expiresAt: this.options.now() + LINK_TICKET_TTL_MS,
    });
    return ticket;
  }

  /**
   * The callback: checks the flow against its cookie, exchanges the code once, verifies the ID
   * token, then signs in (or links) by the rules of the contract. Returns where to send the
   * browser and the tokens of a new session; throws `ProviderError` (or `mfa_required`).
   */
  async callback(
    name: string,
    callbackUrl: URL,
    sealedCookie: string | undefined,
    meta: RequestMeta,
  ): Promise<{ returnTo: string; tokens: IssuedTokens }> {
    const flow = this.openFlow(sealedCookie);
    if (!flow || flow.provider !== name || flow.expiresAt <= this.options.now()) {
      throw new ProviderError("oauth_failed", "The sign-in was not started in this browser, or took too long.");
    }
    if (callbackUrl.searchParams.get("state") !== flow.state) throw new ProviderError("oauth_failed", "The state does not match.");
    const providerError = callbackUrl.searchParams.get("error");
    if (providerError) {
      throw new ProviderError(
        providerError === "access_denied" ? "oauth_denied" : "oauth_failed",
        `The provider answered ${providerError}.`,
      );
    }
    // One callback per flow: a replayed or racing callback finds the state used.
    if (!(await this.storage.useChallenge(hashOf(flow.state), "oauth", this.options.now()))) {
      throw new ProviderError("oauth_failed", "This sign-in was already completed.");
    }
    const profile = await this.profileOf(name, callbackUrl, flow);
    const user = await this.userFor(name, profile, flow.linkUserId, meta);
    const tokens = await this.gate.complete(user, [FEDERATED_AMR], meta);
    this.events.emit({
      type: "oauth_login",
      userId: user.id,
      email: user.email,
      provider: name,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
    return { returnTo: flow.returnTo, tokens };
  }

  listIdentities(userId: string): Promise<IdentityRecord[]> {
    return this.storage.listIdentities(userId);
  }

  /** Unlinks an identity, never the last way to sign in (`409 last_sign_in_method`). */
  async unlink(user: UserRecord, id: string, meta: RequestMeta): Promise<void> {
    const identities = await this.storage.listIdentities(user.id);
    const identity = identities.find((i) => i.id === id);
    if (!identity) throw new HushError("not_found", "No such identity.");
    const passkeys = await this.storage.listPasskeys(user.id);
    if (user.passwordHash === "" && passkeys.length === 0 && identities.length === 1) {
      throw new HushError("last_sign_in_method", "This is the only way to sign in to the account: set a password or add a passkey first.");
    }
    if (!(await this.storage.removeIdentity(user.id, id))) throw new HushError("not_found", "No such identity.");
    this.events.emit({ type: "identity_unlinked", userId: user.id, email: user.email, provider: identity.provider, ip: meta.ip });
    await this.mailer.queue("security_notice", user.email, { change: `Sign-in with ${identity.provider} was removed from your account.` });
  }

  /** Records a failed callback. */
  failed(name: string, error: unknown, meta: RequestMeta): ProviderFailure {
    const code = error instanceof ProviderError ? error.code : "oauth_failed";
    this.events.emit({ type: "oauth_failed", provider: name, reason: code, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    return code;
  }

  private provider(name: string): ProviderConfig {
    const provider = this.options.oauthProviders[name];
    if (!provider) throw new HushError("not_found", "No such provider.");
    return provider;
  }

  /** The provider's configuration, discovered once (and again after a failure). */
  private configOf(name: string): Promise<oidc.Configuration> {
    let config = this.configs.get(name);
    if (!config) {
      config = this.discover(name);
      this.configs.set(name, config);
      config.catch(() => this.configs.delete(name));
    }
    return config;
  }

  private async discover(name: string): Promise<oidc.Configuration> {
    const provider = this.provider(name);
    const preset = PRESETS[name];
    if (preset?.github && !provider.issuer) {
      return new oidc.Configuration(GITHUB, provider.clientId, provider.clientSecret);
    }
    const issuer = new URL(provider.issuer ?? preset?.issuer ?? "");
    const loopback = issuer.protocol === "http:" && isLoopbackHost(issuer.hostname);
    const config = await oidc.discovery(issuer, provider.clientId, provider.clientSecret, undefined, {
      execute: loopback ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
    });
    // ID tokens from the token endpoint are verified against the provider's JWKS too.
    oidc.enableNonRepudiationChecks(config);
    return config;
  }

  private openFlow(sealed: string | undefined): FlowState | undefined {
    if (!sealed) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(this.box.open(sealed, "hush/oauth-state"))) as FlowState;
    } catch {
      return undefined;
    }
  }

  /** Exchanges the code (once, with the PKCE verifier) and returns who the provider says this is. */
  private async profileOf(name: string, callbackUrl: URL, flow: FlowState): Promise<ProviderProfile> {
    const config = await this.configOf(name);
    const github = PRESETS[name]?.github && !this.provider(name).issuer;
    // The callback URL as the provider addressed it (the issuer's, never the request's Host).
    const current = new URL(this.redirectUri(name));
    current.search = callbackUrl.search;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        ...(github ? {} : { expectedNonce: flow.nonce, idTokenExpected: true }),
      });
    } catch (error) {
      const code = (error as { error?: unknown }).error;
      throw new ProviderError(code === "access_denied" ? "oauth_denied" : "oauth_failed", `The provider sign-in failed: ${String(error)}`);
    }
    if (github) return this.githubProfile(tokens.access_token);
    const claims = tokens.claims();
    if (!claims) throw new ProviderError("oauth_failed", "The provider sent no ID token.");
    let email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : null;
    let verified = claims.email_verified === true;
    if (!email) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      email = typeof info.email === "string" ? info.email.trim().toLowerCase() : null;
      verified = info.email_verified === true;
    }
    // Microsoft's multi-tenant issuer asserts any address; only `xms_edov` says the domain owns it.
    if (name === "microsoft" && claims.xms_edov !== true) verified = false;
    return { issuer: claims.iss, subject: claims.sub, email, emailVerified: verified };
  }

  /** GitHub: the user id, and only the primary, verified address counts. */
  private async githubProfile(accessToken: string): Promise<ProviderProfile> {
    const headers = { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json", "user-agent": "hush" };
    const user = (await (await fetch("https://api.github.com/user", { headers })).json()) as { id?: number };
    const emails = (await (await fetch("https://api.github.com/user/emails", { headers })).json()) as {
      email: string;
      primary: boolean;
      verified: boolean;
    }[];
    if (typeof user.id !== "number") throw new ProviderError("oauth_failed", "GitHub sent no user.");
    const primary = Array.isArray(emails) ? emails.find((e) => e.primary && e.verified) : undefined;
    return {
      issuer: GITHUB.issuer,
      subject: String(user.id),
      email: primary?.email.toLowerCase() ?? null,
      emailVerified: primary !== undefined,
    };
  }

  /**
   * Who signs in: the identity's user; for a link flow, the linking user; else by verified
   * email from a provider trusted for email — where an account whose address was never
   * verified is first taken from whoever made it; else a new account. An identity without a
   * verified email never joins an existing account (`account_exists`).
   */
  private async userFor(name: string, profile: ProviderProfile, linkUserId: string | undefined, meta: RequestMeta): Promise<UserRecord> {
    const existing = await this.storage.findIdentity(profile.issuer, profile.subject);
    if (existing) {
      if (linkUserId && existing.userId !== linkUserId)
        throw new ProviderError("account_exists", "This identity belongs to another account.");
      const user = await this.storage.findUserById(existing.userId);
      if (!user) throw new ProviderError("oauth_failed", "The account of this identity is gone.");
      return this.usable(user);
    }
    if (linkUserId) {
      const user = await this.storage.findUserById(linkUserId);
      if (!user) throw new ProviderError("oauth_failed", "The account to link is gone.");
      await this.link(name, user, profile, meta);
      return this.usable(user);
    }
    const trusted = this.provider(name).trustEmail ?? PRESETS[name]?.trustEmail ?? false;
    const owner = profile.email ? await this.storage.findUserByEmail(profile.email) : undefined;
    if (owner) {
      if (!(trusted && profile.emailVerified))
        throw new ProviderError("account_exists", "An account with this address exists: sign in to it, then link.");
      // The verified owner wins over an unverified local account (pre-account takeover).
      const user = owner.emailVerifiedAt === null ? await this.storage.reclaimUnverifiedAccount(owner.id, this.options.now()) : owner;
      await this.link(name, user, profile, meta);
      return this.usable(user);
    }
    if (!profile.email) throw new ProviderError("oauth_failed", "The provider shared no email address.");
    const now = this.options.now();
    const user: UserRecord = {
      id: randomUUID(),
      email: profile.email,
      // No password until one is set through the reset flow.
      passwordHash: "",
      createdAt: now,
      updatedAt: now,
      securityStamp: 0,
      suspendedAt: null,
      emailVerifiedAt: trusted && profile.emailVerified ? now : null,
    };
    try {
      await this.storage.createUser(user);
    } catch (error) {
      if (error instanceof EmailTakenError) throw new ProviderError("account_exists", "An account with this address exists.");
      throw error;
    }
    this.events.emit({
      type: "signup",
      userId: user.id,
      email: user.email,
      provider: name,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
    await this.link(name, user, profile, meta);
    return user;
  }

  private async link(name: string, user: UserRecord, profile: ProviderProfile, meta: RequestMeta): Promise<void> {
    try {
      await this.storage.addIdentity({
        id: randomUUID(),
        userId: user.id,
        provider: name,
        issuer: profile.issuer,
        subject: profile.subject,
        email: profile.email,
        emailVerified: profile.emailVerified,
        createdAt: this.options.now(),
      });
    } catch (error) {
      if (error instanceof IdentityTakenError) throw new ProviderError("account_exists", "This identity belongs to another account.");
      throw error;
    }
    this.events.emit({
      type: "identity_linked",
      userId: user.id,
      email: user.email,
      provider: name,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
    await this.mailer.queue("security_notice", user.email, { change: `Sign-in with ${name} was added to your account.` });
  }

  private usable(user: UserRecord): UserRecord {
    if (user.suspendedAt !== null) throw new ProviderError("oauth_failed", "This account is suspended.");
    return user;
  }
}
