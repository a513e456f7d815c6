import { z } from "zod";
import { type Credentials, emailSchema, type PasswordChange } from "../services/credentials.js";

export { emailSchema };

/** A password as sent; the policy checks its strength separately (`weak_password`, not `invalid_request`). */
const passwordSchema = z.string().min(1, "must not be empty").max(4096);

export const credentialsSchema: z.ZodType<Credentials> = z.object({ email: emailSchema, password: passwordSchema });

export const passwordChangeSchema: z.ZodType<PasswordChange> = z.object({ currentPassword: passwordSchema, newPassword: passwordSchema });

/** An emailed link's token (`<id>.<secret>`); its shape is checked by the flow, which answers `invalid_link`. */
const linkTokenSchema = z.string().min(1).max(256);

export const linkTokenBodySchema = z.object({ token: linkTokenSchema });
export const emailBodySchema = z.object({ email: emailSchema });
export const passwordResetSchema = z.object({ token: linkTokenSchema, newPassword: passwordSchema });
export const emailChangeSchema = z.object({ newEmail: emailSchema, currentPassword: passwordSchema });
export const deleteAccountSchema = z.object({ currentPassword: passwordSchema.optional() });

/** A WebAuthn response as `@simplewebauthn/browser` sends it; its content is checked by the ceremony. */
const webauthnResponseSchema = z.record(z.string(), z.unknown());
const totpCodeSchema = z.string().trim().max(32);
const recoveryCodeSchema = z.string().trim().max(64);

export const passkeyRegistrationSchema = z.object({ response: webauthnResponseSchema, name: z.string().max(256).optional() });
export const passkeyAssertionSchema = z.object({ challengeId: z.string().min(1).max(256), response: webauthnResponseSchema });
export const totpCodeBodySchema = z.object({ code: totpCodeSchema });
export const secondFactorSchema = z.union([z.object({ code: totpCodeSchema }), z.object({ recoveryCode: recoveryCodeSchema })]);
export const mfaVerifySchema = z.union([
  z.object({ mfaToken: z.string().min(1).max(256), code: totpCodeSchema }),
  z.object({ mfaToken: z.string().min(1).max(256), recoveryCode: recoveryCodeSchema }),
]);
export const reauthenticateSchema = z.union([
  // Both factors at once: a step-up that asks for `mfa`.
  z.object({ password: passwordSchema, code: totpCodeSchema }),
  z.object({ password: passwordSchema, recoveryCode: recoveryCodeSchema }),
  z.object({ password: passwordSchema }),
  z.object({ code: totpCodeSchema }),
  z.object({ recoveryCode: recoveryCodeSchema }),
  passkeyAssertionSchema,
]);

// Response shapes. The handlers build these objects; the OpenAPI document is generated from
// these schemas and the request schemas above, so the two are never written twice.

export const errorBodySchema = z.object({ error: z.string(), message: z.string() }).meta({ id: "Error" });

export const publicUserSchema = z
  .object({ id: z.string(), email: z.string(), createdAt: z.iso.datetime(), emailVerified: z.boolean() })
  .meta({ id: "User" });

export const tokenResponseSchema = z
  .object({
    accessToken: z.string().describe("JWT access token (RFC 9068), to be kept in memory only"),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().describe("lifetime of accessToken in seconds"),
    user: publicUserSchema,
  })
  .meta({ id: "TokenResponse" });

export const meResponseSchema = z.object({ user: publicUserSchema });

export const passkeySchema = z
  .object({
    id: z.string().describe("the credential id, base64url"),
    name: z.string(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    backedUp: z.boolean().describe("synced to the user's other devices"),
  })
  .meta({ id: "Passkey" });
export const recoveryCodesSchema = z.object({ recoveryCodes: z.array(z.string()) });

/** `202` of sign-up in `required` verification mode: the account exists, no session yet. */
export const pendingSignupSchema = z.object({ user: publicUserSchema, verificationRequired: z.literal(true) });

export const sessionsResponseSchema = z.object({
  sessions: z.array(
    z
      .object({
        id: z.string().describe("the sid claim of the session's access tokens"),
        createdAt: z.iso.datetime(),
        lastUsedAt: z.iso.datetime(),
        expiresAt: z.iso.datetime(),
        userAgent: z.string().nullable(),
        current: z.boolean(),
      })
      .meta({ id: "Session" }),
  ),
});

export const jwksResponseSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

export const healthResponseSchema = z.object({ status: z.literal("ok") });
