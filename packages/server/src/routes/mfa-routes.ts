import { PATHS } from "@hush/protocol";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { z } from "zod";
import { HushError } from "../errors.js";
import { defineEndpoint } from "../http/endpoint.js";
import {
  mfaVerifySchema,
  passkeyAssertionSchema,
  passkeyRegistrationSchema,
  passkeySchema,
  reauthenticateSchema,
  recoveryCodesSchema,
  secondFactorSchema,
  tokenResponseSchema,
  totpCodeBodySchema,
} from "../http/schemas.js";
import { corsApplied, corsHeadersFor } from "../security/cors.js";
import type { ServerContext } from "../server-context.js";
import { publicPasskey } from "../services/passkeys.js";
import { deviceCookieFor } from "./auth-routes.js";
import { type Authenticated, amrOf } from "./guards.js";
import { publicUser, tokenResponse } from "./token-response.js";

const tokenSet = { description: "Token response; sets the refresh cookie", schema: tokenResponseSchema };
const noStore = { "cache-control": "no-store" };
const json = (body: unknown, status = 200) => Response.json(body, { status, headers: noStore });
const PASSKEY_ID = /^[A-Za-z0-9_-]{1,1366}$/;

/**
 * With a second factor enrolled, adding or removing a factor needs a recent sign-in that used
 * one (`amr` holds `mfa` or `otp`), not only a password. The mount has already checked that the
 * sign-in is recent (`bearer-recent`).
 */
async function requireFactorProof(ctx: ServerContext, { user, claims }: Authenticated): Promise<void> {
  const amr = amrOf(claims);
  if (amr.includes("mfa") || amr.includes("otp")) return;
  if (await ctx.twoFactor.isEnrolled(user.id)) {
    throw new HushError("reauthentication_required", "Confirm with your authenticator app or a passkey first, then retry.");
  }
}

/** Passkeys, TOTP with recovery codes, the second step of a sign-in, and re-authentication (docs/api.md, Passkeys and two-factor). */
export const mfaEndpoints = [
  defineEndpoint({
    method: "post",
    path: PATHS.passkeyRegisterOptions,
    operationId: "passkeyRegistrationOptions",
    summary: "Options to create a passkey (a recent sign-in)",
    auth: "bearer-recent",
    responses: { 200: { description: "WebAuthn creation options", schema: z.object({ options: z.record(z.string(), z.unknown()) }) } },
    async handler({ auth }, ctx) {
      await requireFactorProof(ctx, auth);
      return json({ options: await ctx.passkeys.registrationOptions(auth.user) });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.passkeyRegister,
    operationId: "registerPasskey",
    summary: "Finish creating a passkey",
    auth: "bearer-recent",
    body: passkeyRegistrationSchema,
    responses: { 201: { description: "The new passkey", schema: z.object({ passkey: passkeySchema }) } },
    async handler({ auth, body, meta }, ctx) {
      await requireFactorProof(ctx, auth);
      const passkey = await ctx.passkeys.register(auth.user, body.response as unknown as RegistrationResponseJSON, body.name, meta);
      return json({ passkey: publicPasskey(passkey) }, 201);
    },
  }),
  defineEndpoint({
    method: "get",
    path: PATHS.passkeys,
    operationId: "listPasskeys",
    summary: "The user's passkeys",
    auth: "bearer",
    responses: { 200: { description: "Passkeys", schema: z.object({ passkeys: z.array(passkeySchema) }) } },
    async handler({ auth }, ctx) {
      return json({ passkeys: (await ctx.passkeys.list(auth.user.id)).map(publicPasskey) });
    },
  }),
  defineEndpoint({
    method: "delete",
    path: `${PATHS.passkeys}/:id`,
    operationId: "deletePasskey",
    summary: "Remove one of the user's passkeys (a recent sign-in)",
    auth: "bearer-recent",
    responses: { 204: { description: "Removed" } },
    async handler({ auth, params, meta }, ctx) {
      await requireFactorProof(ctx, auth);
      const id = params.id ?? "";
      if (!PASSKEY_ID.test(id)) throw new HushError("not_found", "No such passkey.");
      await ctx.passkeys.remove(auth.user, id, meta);
      return new Response(null, { status: 204, headers: noStore });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.passkeyLoginOptions,
    operationId: "passkeyLoginOptions",
    summary: "Options to sign in with a passkey (discoverable; works with autofill)",
    auth: "cookie",
    responses: {
      200: {
        description: "WebAuthn request options and the challenge's id",
        schema: z.object({ options: z.record(z.string(), z.unknown()), challengeId: z.string() }),
      },
    },
    async handler(_input, ctx) {
      return json(await ctx.passkeys.authenticationOptions());
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.passkeyLogin,
    operationId: "loginWithPasskey",
    summary: "Sign in with a passkey",
    auth: "cookie",
    body: passkeyAssertionSchema,
    limits: ["loginsPerIp"],
    responses: { 200: tokenSet },
    async handler({ body, meta, request }, ctx) {
      const assertion = await ctx.passkeys.authenticate(body.challengeId, body.response as unknown as AuthenticationResponseJSON, meta);
      const { user } = assertion;
      ctx.events.emit({ type: "passkey_login", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
      // Without user verification a passkey is one factor: a user with a second factor meets it.
      return tokenResponse(ctx, request, 200, await ctx.gate.complete(user, assertion.amr, meta));
    },
  }),
  defineEndpoint({
    method: "get",
    path: PATHS.mfa,
    operationId: "mfaStatus",
    summary: "Whether the user has an authenticator app, and how many recovery codes are left",
    auth: "bearer",
    responses: { 200: { description: "Status", schema: z.object({ totp: z.boolean(), recoveryCodesLeft: z.number().int() }) } },
    async handler({ auth }, ctx) {
      return json(await ctx.twoFactor.status(auth.user.id));
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.totpSetup,
    operationId: "setupTotp",
    summary: "A new authenticator-app secret, pending until enabled (a recent sign-in)",
    auth: "bearer-recent",
    responses: { 200: { description: "The secret", schema: z.object({ secret: z.string(), otpauthUrl: z.string() }) } },
    async handler({ auth }, ctx) {
      await requireFactorProof(ctx, auth);
      return json(await ctx.twoFactor.setup(auth.user));
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.totpEnable,
    operationId: "enableTotp",
    summary: "Turn the authenticator app on with a code; ten recovery codes, shown once",
    auth: "bearer-recent",
    body: totpCodeBodySchema,
    responses: { 200: { description: "Recovery codes", schema: recoveryCodesSchema } },
    async handler({ auth, body, meta }, ctx) {
      await requireFactorProof(ctx, auth);
      return json({ recoveryCodes: await ctx.twoFactor.enable(auth.user, body.code, meta) });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.totpDisable,
    operationId: "disableTotp",
    summary: "Turn the authenticator app off with a code or a recovery code",
    auth: "bearer-recent",
    body: secondFactorSchema,
    responses: { 204: { description: "Off" } },
    async handler({ auth, body, meta }, ctx) {
      await ctx.twoFactor.disable(auth.user, body, meta);
      return new Response(null, { status: 204, headers: noStore });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.recoveryCodes,
    operationId: "regenerateRecoveryCodes",
    summary: "Ten new recovery codes; the old ones stop working",
    auth: "bearer-recent",
    responses: { 200: { description: "Recovery codes", schema: recoveryCodesSchema } },
    async handler({ auth, meta }, ctx) {
      await requireFactorProof(ctx, auth);
      return json({ recoveryCodes: await ctx.twoFactor.regenerateRecoveryCodes(auth.user, meta) });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.mfaVerify,
    operationId: "verifyMfa",
    summary: "The second step of a sign-in: a code or a recovery code for an mfaToken",
    auth: "cookie",
    body: mfaVerifySchema,
    responses: { 200: tokenSet },
    async handler({ body, meta, request }, ctx) {
      const { mfaToken, ...proof } = body;
      const { passwordUsed, ...tokens } = await ctx.gate.verify(mfaToken, proof, meta);
      return tokenResponse(ctx, request, 200, tokens, passwordUsed ? [deviceCookieFor(ctx, tokens.user)] : []);
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.reauthenticate,
    operationId: "reauthenticate",
    summary: "Prove it is still you (password, code or passkey): a new access token with a fresh auth_time",
    auth: "bearer",
    body: reauthenticateSchema,
    responses: {
      200: { description: "Token response for the same session (the refresh cookie is unchanged)", schema: tokenResponseSchema },
    },
    async handler({ auth: { user, claims }, body, meta, request }, ctx) {
      let amr: string[] = [];
      if ("challengeId" in body) {
        const assertion = await ctx.passkeys.authenticate(
          body.challengeId,
          body.response as unknown as AuthenticationResponseJSON,
          meta,
          user.id,
        );
        amr = assertion.amr;
      } else {
        if ("password" in body) {
          await ctx.lifecycle.checkCurrentPassword(user, body.password, meta, ctx.deviceCookie.read(request.headers.get("cookie")));
          amr.push("pwd");
        }
        if ("code" in body || "recoveryCode" in body) {
          await ctx.twoFactor.prove(user, "code" in body ? { code: body.code } : { recoveryCode: body.recoveryCode }, meta);
          amr.push("otp");
        }
        // A password and a second factor together are two factors: what a step-up asking for `mfa` wants.
        if (amr.length === 2) amr.push("mfa");
      }
      const now = ctx.options.now();
      // A re-authentication's amr lists only what was just used: a password alone never passes a step-up asking for mfa.
      await ctx.storage.reauthenticateSession(claims.sid, now, amr);
      const access = await ctx.accessTokens.issue(user, { sessionId: claims.sid, authTime: now, amr }, now);
      ctx.events.emit({
        type: "reauthenticated",
        userId: user.id,
        sessionId: claims.sid,
        ip: meta.ip,
        userAgent: meta.userAgent ?? undefined,
      });
      const body_ = { accessToken: access.token, tokenType: "Bearer", expiresIn: access.expiresIn, user: publicUser(user) };
      const headers = { ...noStore, pragma: "no-cache", ...corsHeadersFor(request.headers.get("origin"), ctx.options.allowedOrigins) };
      return corsApplied(Response.json(body_, { headers }));
    },
  }),
];
