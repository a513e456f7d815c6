import type { PublicUser, TokenResponse } from "@hush/protocol";

// Every JSON the client reads — response bodies, a token's payload, a peer tab's message — is
// `unknown` until one of these guards says otherwise. The client has no runtime dependency, so
// these are small hand-written checks rather than a schema library; none of them uses `as`.

/** `value[key]` when `value` is an object, else `undefined`: the one way the client reads untrusted JSON. */
export function fieldOf(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined;
}

/** `value[key]` when it is a string, else `undefined`. */
export function stringFieldOf(value: unknown, key: string): string | undefined {
  const field = fieldOf(value, key);
  return typeof field === "string" ? field : undefined;
}

/** A user as the auth server describes one (`id`, `email`, `createdAt`, all strings, and a boolean `emailVerified`). */
export function isPublicUser(value: unknown): value is PublicUser {
  return (
    ["id", "email", "createdAt"].every((key) => stringFieldOf(value, key) !== undefined) &&
    typeof fieldOf(value, "emailVerified") === "boolean"
  );
}

/** The parts of a token response (signup, login, refresh) that the client uses. */
export type TokenAnswer = Pick<TokenResponse, "accessToken" | "user">;

/** A token response's `accessToken` (a string) and `user`; the client reads nothing else of it. */
export function isTokenAnswer(value: unknown): value is TokenAnswer {
  return stringFieldOf(value, "accessToken") !== undefined && isPublicUser(fieldOf(value, "user"));
}
