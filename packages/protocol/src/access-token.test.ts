import { describe, expect, it } from "vitest";
import { isSigningAlgorithm, SIGNING_ALGORITHMS } from "./access-token.js";

describe("isSigningAlgorithm", () => {
  it("accepts exactly the signing algorithms, case-sensitively, and never none", () => {
    for (const alg of SIGNING_ALGORITHMS) expect(isSigningAlgorithm(alg)).toBe(true);
    for (const value of ["none", "eddsa", "HS512", "", undefined, 256]) expect(isSigningAlgorithm(value)).toBe(false);
  });
});
