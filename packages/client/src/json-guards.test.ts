import { describe, expect, it } from "vitest";
import { fieldOf, isPublicUser, isTokenAnswer, stringFieldOf } from "./json-guards.js";

const user = { id: "u1", email: "u1@example.com", createdAt: "2025-01-01T00:00:00.000Z", emailVerified: false };

describe("json guards", () => {
  it("reads a field of an object, and nothing of null, primitives or a missing key", () => {
    expect(fieldOf({ a: 1 }, "a")).toBe(1);
    expect(stringFieldOf({ a: "x" }, "a")).toBe("x");
    for (const value of [null, undefined, 7, "a", true, [], {}]) {
      expect(fieldOf(value, "a")).toBeUndefined();
      expect(stringFieldOf(value, "a")).toBeUndefined();
    }
    expect(stringFieldOf({ a: 1 }, "a")).toBeUndefined();
  });

  it("accepts a user only with a string id, email and createdAt and a boolean emailVerified", () => {
    expect(isPublicUser(user)).toBe(true);
    expect(isPublicUser({ ...user, extra: 1 })).toBe(true);
    for (const bad of [
      null,
      "u1",
      [],
      { ...user, id: 1 },
      { id: "u1", email: "e" },
      { ...user, createdAt: null },
      { ...user, emailVerified: "yes" },
      { id: "u1", email: "e", createdAt: "c" },
    ]) {
      expect(isPublicUser(bad)).toBe(false);
    }
  });

  it("accepts a token answer only with a string accessToken and a well-formed user", () => {
    expect(isTokenAnswer({ accessToken: "a.b.c", tokenType: "Bearer", expiresIn: 600, user })).toBe(true);
    for (const bad of [null, {}, { accessToken: "a.b.c" }, { accessToken: 1, user }, { accessToken: "a.b.c", user: { id: "u1" } }]) {
      expect(isTokenAnswer(bad)).toBe(false);
    }
  });
});
