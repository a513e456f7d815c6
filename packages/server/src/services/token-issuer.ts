import type { ResolvedOptions } from "../config/options.js";
import type { SessionUser, UserRecord } from "../storage/contract.js";
import type { AccessTokens, IssuedAccessToken } from "../tokens/access-token.js";
import type { RequestMeta } from "./request-meta.js";
import type { IssuedRefresh, SessionStrategy, SignInMethod } from "./session-strategy.js";

/** What signing someone in (or keeping them signed in) hands out. */
export interface IssuedTokens {
  user: SessionUser;
  access: IssuedAccessToken;
  refresh: IssuedRefresh;
}

/**
 * The one place tokens are issued: a new session for a user who just proved who they are, a
 * refresh, or a fresh access token for a session re-keyed by the caller (password change).
 * Every flow that signs someone in — sign-up, login, refresh, `server.protect`, and later ones —
 * goes through it, so the access token's lifetime and the session's are computed once.
 */
export class TokenIssuer {
  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly sessions: SessionStrategy,
    private readonly options: ResolvedOptions,
  ) {}

  /** Starts a session for `user`, who signed in as `method` says, and issues its first tokens. */
  async signIn(user: UserRecord, meta: RequestMeta, method: SignInMethod): Promise<IssuedTokens> {
    const refresh = await this.sessions.start(user, meta, this.accessExpiresAt(), method);
    return this.issue(user, refresh);
  }

  /** Rotates a refresh token (see `SessionStrategy.refresh`) and issues an access token with it. */
  async refresh(refreshToken: string, meta: RequestMeta): Promise<IssuedTokens> {
    const outcome = await this.sessions.refresh(refreshToken, meta, this.accessExpiresAt());
    return this.issue(outcome.user, outcome);
  }

  /** Issues an access token for a session whose refresh token the caller already has. */
  async issue(user: SessionUser, refresh: IssuedRefresh): Promise<IssuedTokens> {
    return { user, access: await this.accessTokens.issue(user, refresh, this.options.now()), refresh };
  }

  /** When an access token issued now expires (what a session records for the revocation feed). */
  accessExpiresAt(): number {
    return this.options.now() + this.options.accessTokenTtlSeconds * 1000;
  }
}
