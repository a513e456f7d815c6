import { describe, expect, it } from "vitest";
import { AuthError, authErrorOf, isAuthError } from "./auth-error.js";

describe("AuthError", () => {
  it("is recognised by its brand, also when it comes from another copy of the package", () => {
    expect(isAuthError(new AuthError("invalid_credentials", "Wrong email or password.", 401))).toBe(true);
    // What an AuthError of a second bundled copy looks like to this one: another class, same brand.
    expect(isAuthError(Object.assign(new Error("x"), { __hushAuthError: true, code: "unavailable", status: 503 }))).toBe(true);
    for (const other of [new Error("x"), { __hushAuthError: "yes" }, null, "invalid_credentials"]) expect(isAuthError(other)).toBe(false);
  });
});

describe("authErrorOf", () => {
  it("takes the code and message of the server's error body, and the status of its answer", async () => {
    const error = await authErrorOf(Response.json({ error: "email_taken", message: "That email is taken." }, { status: 409 }));
    expect(error).toBeInstanceOf(AuthError);
    expect([error.code, error.message, error.status]).toEqual(["email_taken", "That email is taken.", 409]);
  });

  it("reads an answer that is not the auth server's as unavailable, with the status text", async () => {
    for (const response of [
      new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
      Response.json({ error: 42, message: ["no"] }, { status: 502, statusText: "Bad Gateway" }),
      Response.json(null, { status: 502, statusText: "Bad Gateway" }),
    ]) {
      const error = await authErrorOf(response);
      expect([error.code, error.message, error.status]).toEqual(["unavailable", "Bad Gateway", 502]);
    }
  });
});
