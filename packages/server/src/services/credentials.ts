import { z } from "zod";

/**
 * The shapes a person's credentials have, whoever hands them in (the HTTP edge, the CLI, an
 * application through `server.admin`): services own them, so no service imports from `http/`.
 */

/** An email address, trimmed and lower-cased before it is checked or stored. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be an email address" }));

/** An email and a password, as sign-up and login take them. */
export interface Credentials {
  email: string;
  password: string;
}

/** A password change: the current password and the new one. */
export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
}
