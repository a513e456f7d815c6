import { z } from "zod";

/** An email address, trimmed and lower-cased before it is checked or stored. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be an email address" }));

/** A password as sent; the policy checks its strength separately (`weak_password`, not `invalid_request`). */
const passwordSchema = z.string().min(1, "must not be empty").max(4096);

export const credentialsSchema = z.object({ email: emailSchema, password: passwordSchema });
export type Credentials = z.infer<typeof credentialsSchema>;

export const passwordChangeSchema = z.object({ currentPassword: passwordSchema, newPassword: passwordSchema });
export type PasswordChange = z.infer<typeof passwordChangeSchema>;
