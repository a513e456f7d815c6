import { ACCESS_TOKEN_HEADER, type AccessTokenClaims } from "@hush/protocol";
import { invalidToken, missingToken } from "../errors.js";
import { errorResponse, toHushError } from "../http/error-response.js";
import { cookieHeaders } from "../http/refresh-cookie.js";
import { checkCsrf } from "../security/csrf.js";
import type { ServerContext } from "../server-context.js";
import { requestMetaOf } from "../services/request-meta.js";
import type { SessionUser } from "../storage/contract.js";
import { bearerToken, liveUserOf } from "./guards.js";

/** Options of `server.protect()`. */
export interface ProtectOptions {
  /**
   * When the access token is missing or expired but the request carries a valid refresh
   * cookie **and passes the CSRF checks of `/auth/refresh`**, rotate the session, serve the
   * request, and return the new access token in `X-Access-Token`. Off by default.
   */
  assistRefresh?: boolean;
}

/** What a protected handler receives besides the request. */
export interface Auth {
  claims: AccessTokenClaims;
  user: SessionUser;
}

/** An authenticated request, with the headers an assisted refresh adds to the response. */
interface Outcome {
  auth: Auth;
  headers: [string, string][];
}

/**
 * The seed's `IsLoggedIn` middleware, made CSRF-proof (docs/api.md, server.protect). A cookie alone never
 * authenticates: the refresh only happens for a request that a cross-site form, `<img>` or
 * `no-cors` fetch cannot make — one with `X-Hush-Csrf: 1` from an allowed origin.
 */
export function createProtect(ctx: ServerContext) {
  async function authenticate(request: Request, remoteAddress: string | undefined, options: ProtectOptions): Promise<Outcome> {
    const now = ctx.options.now();
    const token = bearerToken(request.headers.get("authorization") ?? undefined);
    if (token) {
      const checked = await ctx.accessTokens.check(token, now);
      if (checked.ok) return { auth: await liveUserOf(ctx, checked.claims), headers: [] };
      // Only an expired genuine token may be replaced; a forged one is simply refused.
      if (!checked.expired || !options.assistRefresh) throw invalidToken(checked.expired ? "The access token has expired." : undefined);
    }
    // A missing token gets a bare challenge; an expired one that cannot be replaced, invalid_token.
    const refuse = () => (token ? invalidToken("An access token is required.") : missingToken());
    if (!options.assistRefresh) throw refuse();
    const refreshToken = ctx.cookie.read(request.headers.get("cookie"));
    if (!refreshToken || checkCsrf(request.headers, ctx.options.allowedOrigins)) throw refuse();
    const meta = requestMetaOf(request.headers, remoteAddress, ctx.options.trustProxy);
    const { user, access, refresh } = await ctx.tokens.refresh(refreshToken, meta);
    return {
      auth: { claims: access.claims, user },
      headers: cookieHeaders(ctx.cookie.set(refresh.refreshToken, refresh.cookieMaxAgeSeconds), {
        [ACCESS_TOKEN_HEADER]: access.token,
        "cache-control": "no-store",
      }),
    };
  }

  /** Wraps an application handler so that it runs only for an authenticated request. */
  return function protect(
    handler: (request: Request, auth: Auth) => Response | Promise<Response>,
    options: ProtectOptions = {},
  ): (request: Request, connection?: { remoteAddress?: string }) => Promise<Response> {
    return async (request, connection = {}) => {
      let outcome: Outcome;
      try {
        outcome = await authenticate(request, connection.remoteAddress, options);
      } catch (thrown) {
        const { error, unexpected } = toHushError(thrown);
        if (unexpected) ctx.logger.error({ err: thrown }, "protect: unexpected error");
        // A refused refresh cookie is cleared, as /auth/refresh does.
        const clear = error.status === 401 && error.code !== "invalid_token" ? ctx.cookie.clear() : [];
        return errorResponse(error, undefined, clear);
      }
      let response: Response;
      try {
        response = await handler(request, outcome.auth);
      } catch (thrown) {
        // The session may already have rotated: the new cookie must reach the browser whatever
        // the handler does, or its next refresh (after the grace) would be taken for theft.
        if (outcome.headers.length === 0) throw thrown;
        const { error, unexpected } = toHushError(thrown);
        if (unexpected) ctx.logger.error({ err: thrown }, "protect: the handler threw");
        response = errorResponse(error);
      }
      if (outcome.headers.length === 0) return response;
      const headers = new Headers(response.headers);
      for (const [name, value] of outcome.headers) headers.append(name, value);
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    };
  };
}
