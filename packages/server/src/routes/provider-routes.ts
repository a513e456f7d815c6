import { PATHS } from "@hush/protocol";
import { z } from "zod";
import { HushError, isHushError } from "../errors.js";
import { defineEndpoint } from "../http/endpoint.js";
import { readCookie, usesHostPrefix } from "../http/refresh-cookie.js";
import type { ServerContext } from "../server-context.js";
import { OAUTH_STATE_TTL_SECONDS, ProviderError } from "../services/providers.js";

const noStore = { "cache-control": "no-store" };
const identitySchema = z
  .object({ id: z.string(), provider: z.string(), email: z.string().nullable(), createdAt: z.iso.datetime() })
  .meta({ id: "Identity" });

/** The state cookie: `__Host-` where the refresh cookie is, `Lax` because the callback is a top-level navigation from the provider. */
function oauthCookieName(ctx: ServerContext): string {
  return usesHostPrefix(ctx.options.issuer) ? "__Host-hush_oauth" : "hush_oauth";
}
const oauthCookie = (ctx: ServerContext, value: string, maxAge: number) =>
  `${oauthCookieName(ctx)}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; Secure; SameSite=Lax`;

function redirect(location: string, cookies: string[] = []): Response {
  const headers = new Headers({ location, ...noStore, "referrer-policy": "no-referrer" });
  for (const cookie of cookies) headers.append("set-cookie", cookie);
  return new Response(null, { status: 302, headers });
}

/** The app's sign-in page with `#name=value` (a fragment: never sent to a server or in `Referer`). */
const signInPage = (ctx: ServerContext, name: "error" | "mfa", value: string) =>
  `${ctx.options.appUrl}/sign-in#${name}=${encodeURIComponent(value)}`;

/** Sign-in with other providers and the user's linked identities (docs/api.md, Providers). */
export const providerEndpoints = [
  defineEndpoint({
    method: "get",
    path: PATHS.oauthProviders,
    operationId: "listProviders",
    summary: "The providers one can sign in with",
    auth: "none",
    responses: {
      200: { description: "Providers", schema: z.object({ providers: z.array(z.object({ name: z.string(), label: z.string() })) }) },
    },
    handler(_input, ctx) {
      return Response.json({ providers: ctx.providers.list() }, { headers: { "cache-control": "public, max-age=60" } });
    },
  }),
  defineEndpoint({
    method: "get",
    path: `${PATHS.oauth}/:provider/start`,
    operationId: "startProviderSignIn",
    summary: "Go to the provider (302), with state, nonce and PKCE in a sealed cookie",
    auth: "none",
    responses: { 302: { description: "To the provider" } },
    async handler({ params, request, meta }, ctx) {
      const name = params.provider ?? "";
      if (!ctx.providers.has(name)) throw new HushError("not_found", "No such provider.");
      const query = new URL(request.url).searchParams;
      try {
        const { url, cookie } = await ctx.providers.start(name, query.get("returnTo"), query.get("link"));
        return redirect(url, [oauthCookie(ctx, cookie, OAUTH_STATE_TTL_SECONDS)]);
      } catch (error) {
        if (isHushError(error)) throw error;
        return redirect(signInPage(ctx, "error", ctx.providers.failed(name, error, meta)));
      }
    },
  }),
  defineEndpoint({
    method: "get",
    path: `${PATHS.oauth}/:provider/callback`,
    operationId: "providerCallback",
    summary: "The provider's answer: a session and a 302 to the app, or a 302 to its sign-in page",
    auth: "none",
    responses: { 302: { description: "To the app (signed in), or to its sign-in page with #error= or #mfa=" } },
    async handler({ params, request, meta }, ctx) {
      const name = params.provider ?? "";
      if (!ctx.providers.has(name)) throw new HushError("not_found", "No such provider.");
      const cleared = oauthCookie(ctx, "", 0);
      try {
        const sealed = readCookie(request.headers.get("cookie"), oauthCookieName(ctx));
        const { returnTo, tokens } = await ctx.providers.callback(name, new URL(request.url), sealed, meta);
        const refresh = ctx.cookie.set(tokens.refresh.refreshToken, tokens.refresh.cookieMaxAgeSeconds);
        return redirect(`${ctx.options.appUrl}${returnTo}`, [cleared, ...refresh]);
      } catch (error) {
        if (isHushError(error) && error.code === "mfa_required") {
          return redirect(signInPage(ctx, "mfa", String(error.details.mfaToken)), [cleared]);
        }
        if (!(error instanceof ProviderError)) ctx.logger.warn({ err: error }, "provider sign-in failed");
        return redirect(signInPage(ctx, "error", ctx.providers.failed(name, error, meta)), [cleared]);
      }
    },
  }),
  defineEndpoint({
    method: "post",
    path: `${PATHS.identities}/:provider/link`,
    operationId: "linkProvider",
    summary: "A URL to navigate to, that links the provider to the signed-in user (a recent sign-in)",
    auth: "bearer-recent",
    responses: { 200: { description: "Where to send the browser", schema: z.object({ url: z.string() }) } },
    async handler({ auth: { user }, params }, ctx) {
      const name = params.provider ?? "";
      if (!ctx.providers.has(name)) throw new HushError("not_found", "No such provider.");
      const ticket = await ctx.providers.linkTicket(user, name);
      const url = `${ctx.options.issuer}${PATHS.oauth}/${encodeURIComponent(name)}/start?link=${ticket}`;
      return Response.json({ url }, { headers: noStore });
    },
  }),
  defineEndpoint({
    method: "get",
    path: PATHS.identities,
    operationId: "listIdentities",
    summary: "The user's linked identities",
    auth: "bearer",
    responses: { 200: { description: "Identities", schema: z.object({ identities: z.array(identitySchema) }) } },
    async handler({ auth: { user } }, ctx) {
      const identities = (await ctx.providers.listIdentities(user.id)).map((i) => ({
        id: i.id,
        provider: i.provider,
        email: i.email,
        createdAt: new Date(i.createdAt).toISOString(),
      }));
      return Response.json({ identities }, { headers: noStore });
    },
  }),
  defineEndpoint({
    method: "delete",
    path: `${PATHS.identities}/:id`,
    operationId: "unlinkIdentity",
    summary: "Unlink an identity (a recent sign-in); never the last way to sign in",
    auth: "bearer-recent",
    responses: { 204: { description: "Unlinked" } },
    async handler({ auth: { user }, params, meta }, ctx) {
      await ctx.providers.unlink(user, params.id ?? "", meta);
      return new Response(null, { status: 204, headers: noStore });
    },
  }),
];
