import { describe, expect, it } from "vitest";
import { createVerifier, isTokenError } from "../src/index.js";
import { attackCases, optionCases } from "./attack-cases.js";
import { type AttackCase, mismatches, NOW, runAttackCase, runOptionCase } from "./attack-runner.js";
import { AUDIENCE, b64, claimsAt, codeOf, ISSUER, makeKey, token } from "./token-factory.js";

// The shared attack cases on Node (`@hush/verify`); edge.test.ts runs the same list inside the
// edge runtime against `@hush/verify/edge`.

const groups = new Map<string, AttackCase[]>();
for (const c of attackCases()) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);

for (const [group, cases] of groups) {
  describe(group, () => {
    for (const c of cases) {
      it(c.name, async () => {
        expect(mismatches(c, await runAttackCase(createVerifier, isTokenError, c))).toEqual([]);
      });
    }
    if (group !== "verifier options") return;

    it("refuses bad options with an error naming the option", () => {
      for (const c of optionCases()) expect(runOptionCase(createVerifier, c)).toMatch(new RegExp(c.error));
    });

    it("takes an HS256 secret as bytes or as base64url text", async () => {
      const key = makeKey("HS256");
      const signed = token(key, claimsAt(NOW));
      for (const secret of [key.secret as Buffer, new Uint8Array(key.secret as Buffer), b64(key.secret as Buffer)]) {
        const verify = createVerifier({ issuer: ISSUER, audience: AUDIENCE, secret, now: () => NOW * 1000 });
        expect(await codeOf(verify(signed))).toBe("accepted");
      }
    });
  });
}
