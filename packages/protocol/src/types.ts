/** A user as the API shows it. Times are ISO 8601 strings in UTC. */
export interface PublicUser {
  id: string;
  email: string;
  createdAt: string;
  /** Whether the address has been proven (by an emailed link, a provider or an operator). */
  emailVerified: boolean;
}

/** Body of every response that issues an access token (signup, login, refresh, password). */
export interface TokenResponse {
  accessToken: string;
  tokenType: "Bearer";
  /** Lifetime of `accessToken` in seconds from now. */
  expiresIn: number;
  user: PublicUser;
}

/** One session (one sign-in on one device) as listed by `GET /auth/sessions`. */
export interface SessionSummary {
  /** The `sid` claim of this session's access tokens. */
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  /** True for the session the listing request's access token belongs to. */
  current: boolean;
}

/** Claims of a Hush access token (RFC 9068 profile), plus any an application adds. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  sid: string;
  client_id: string;
  /** When the user signed in to this session (seconds since the epoch). */
  auth_time?: number;
  /**
   * The user's security stamp when the token was issued: the auth server refuses its own
   * endpoints to a token issued before a logout-all, password change or suspension.
   */
  sst?: number;
  [claim: string]: unknown;
}
