import { PATHS } from "@hush/protocol";
import { defineEndpoint } from "../http/endpoint.js";
import { cookieHeaders } from "../http/refresh-cookie.js";
import {
  deleteAccountSchema,
  emailBodySchema,
  emailChangeSchema,
  linkTokenBodySchema,
  meResponseSchema,
  passwordResetSchema,
  tokenResponseSchema,
} from "../http/schemas.js";
import { publicUser, tokenResponse } from "./token-response.js";

const tokenSet = { description: "Token response; sets the refresh cookie", schema: tokenResponseSchema };
const accepted = { description: "Accepted; a mail is on its way where the contract says so" };

const noStore = { "cache-control": "no-store" };
const acceptedResponse = () => new Response(null, { status: 202, headers: noStore });

/**
 * The email flows (docs/api.md, Email). Link endpoints are cookie endpoints — CSRF-checked,
 * since those that sign in set the refresh cookie — and every failure of a link is one
 * `400 invalid_link`. `forgot` and `signin-link` answer `202` whatever the address.
 */
export const emailEndpoints = [
  defineEndpoint({
    method: "post",
    path: PATHS.emailVerification,
    operationId: "requestEmailVerification",
    summary: "Mail a verification link to the signed-in user's address",
    auth: "bearer",
    responses: { 202: accepted },
    async handler({ auth: { user }, meta }, ctx) {
      await ctx.email.requestVerification(user, meta);
      return acceptedResponse();
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.emailVerify,
    operationId: "verifyEmail",
    summary: "Use a verification link: the address is verified and this browser signed in",
    auth: "cookie",
    body: linkTokenBodySchema,
    responses: { 200: tokenSet },
    async handler({ body, meta, request }, ctx) {
      return tokenResponse(ctx, request, 200, await ctx.email.verify(body.token, meta));
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.passwordForgot,
    operationId: "forgotPassword",
    summary: "Mail a password-reset link (the same answer for unknown addresses)",
    auth: "cookie",
    body: emailBodySchema,
    responses: { 202: accepted },
    async handler({ body, meta }, ctx) {
      await ctx.email.forgot(body.email, meta);
      return acceptedResponse();
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.passwordReset,
    operationId: "resetPassword",
    summary: "Use a reset link: a new password, every other session ended, this browser signed in",
    auth: "cookie",
    body: passwordResetSchema,
    responses: { 200: tokenSet },
    async handler({ body, meta, request }, ctx) {
      return tokenResponse(ctx, request, 200, await ctx.email.reset(body.token, body.newPassword, meta));
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.emailChange,
    operationId: "changeEmail",
    summary: "Mail a confirmation link to a new address, and a notice to the current one",
    auth: "bearer",
    body: emailChangeSchema,
    responses: { 202: accepted },
    async handler({ auth: { user }, body, meta, request }, ctx) {
      await ctx.email.requestChange(user, body.newEmail, body.currentPassword, meta, ctx.deviceCookie.read(request.headers.get("cookie")));
      return acceptedResponse();
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.emailChangeConfirm,
    operationId: "confirmEmailChange",
    summary: "Use an email-change link: the new address, verified",
    auth: "cookie",
    body: linkTokenBodySchema,
    responses: { 200: { description: "The user, with the new address", schema: meResponseSchema } },
    async handler({ body, meta }, ctx) {
      const user = await ctx.email.confirmChange(body.token, meta);
      return Response.json({ user: publicUser(user) }, { headers: noStore });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.signInLink,
    operationId: "requestSignInLink",
    summary: "Mail a sign-in link (the same answer for unknown addresses); 404 when sign-in links are off",
    auth: "cookie",
    body: emailBodySchema,
    responses: { 202: accepted },
    async handler({ body, meta }, ctx) {
      await ctx.email.requestSignInLink(body.email, meta);
      return acceptedResponse();
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.signInLinkVerify,
    operationId: "signInWithLink",
    summary: "Use a sign-in link: this browser signed in",
    auth: "cookie",
    body: linkTokenBodySchema,
    responses: { 200: tokenSet },
    async handler({ body, meta, request }, ctx) {
      return tokenResponse(ctx, request, 200, await ctx.email.signInWithLink(body.token, meta));
    },
  }),
  defineEndpoint({
    method: "delete",
    path: PATHS.account,
    operationId: "deleteAccount",
    summary: "Delete the account: every session revoked, the user and their data deleted, the cookie cleared",
    auth: "bearer",
    csrf: true,
    body: deleteAccountSchema,
    responses: { 204: { description: "Deleted" } },
    async handler({ auth: { user, claims }, body, meta, request }, ctx) {
      const authTime = typeof claims.auth_time === "number" ? claims.auth_time * 1000 : undefined;
      await ctx.email.deleteAccount(
        user,
        { currentPassword: body.currentPassword, authTime },
        meta,
        ctx.deviceCookie.read(request.headers.get("cookie")),
      );
      return new Response(null, { status: 204, headers: cookieHeaders(ctx.cookie.clear(), noStore) });
    },
  }),
];
