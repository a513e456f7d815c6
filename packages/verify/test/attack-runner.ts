// Runs the shared attack cases (`attack-cases.ts`) against any `createVerifier`: Node's in
// attacks.test.ts, the edge entry's inside the edge runtime in edge.test.ts. No `node:` import
// and no Node global: edge.test.ts bundles this file into the runtime.

/** One verification: the token, and `accepted`, the `TokenError` code expected, or `refused` (any `TokenError`). */
export interface AttackStep {
  token: string;
  expect: string;
  /** The verifier's clock for this step, in seconds. Default `NOW`. */
  at?: number;
  /** A genuine token verified just before, so the attack meets a warm cache. */
  warmWith?: string;
}

/** A verifier made from `options` (JSON, so it can cross into another runtime) and the steps run against it in order. */
export interface AttackCase {
  group: string;
  name: string;
  options: Record<string, unknown>;
  steps: AttackStep[];
}

/** Options `createVerifier` must refuse, and a pattern of the message it must refuse them with. */
export interface OptionCase {
  options: Record<string, unknown>;
  error: string;
}

export const NOW = 1_800_000_000;

type AnyVerifier = ((token: string) => Promise<unknown>) & { close?: () => void };
type CreateVerifier = (options: never) => AnyVerifier;
type IsTokenError = (value: unknown) => value is { code: string };

/** What a verification came to: `accepted`, the `TokenError` code, or `not a TokenError: …`. */
export async function codeOf(result: Promise<unknown>, isTokenError: IsTokenError): Promise<string> {
  try {
    await result;
    return "accepted";
  } catch (error) {
    return isTokenError(error) ? error.code : `not a TokenError: ${String(error)}`;
  }
}

/** Runs one case on a verifier of its own; resolves to the outcome of each step. */
export async function runAttackCase(createVerifier: CreateVerifier, isTokenError: IsTokenError, c: AttackCase): Promise<string[]> {
  const clock = { ms: NOW * 1000 };
  const verify = createVerifier({ ...c.options, now: () => clock.ms } as never);
  const outcomes: string[] = [];
  try {
    for (const step of c.steps) {
      clock.ms = (step.at ?? NOW) * 1000;
      if (step.warmWith !== undefined) {
        const warm = await codeOf(verify(step.warmWith), isTokenError);
        if (warm !== "accepted") throw new Error(`the warm-up token was refused: ${warm}`);
      }
      outcomes.push(await codeOf(verify(step.token), isTokenError));
    }
  } finally {
    verify.close?.();
  }
  return outcomes;
}

/** The message `createVerifier` throws for these options, or `no error`. */
export function runOptionCase(createVerifier: CreateVerifier, c: OptionCase): string {
  try {
    createVerifier(c.options as never);
    return "no error";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The steps whose outcome is not the one expected, described; empty when the case passed. */
export function mismatches(c: AttackCase, outcomes: readonly string[]): string[] {
  const wrong: string[] = [];
  c.steps.forEach((step, i) => {
    const got = outcomes[i] ?? "(not run)";
    const ok =
      step.expect === "refused" ? got !== "accepted" && !got.startsWith("not a TokenError") && got !== "(not run)" : got === step.expect;
    if (!ok) wrong.push(`step ${i} (${step.token.slice(0, 80)}…): expected ${step.expect}, got ${got}`);
  });
  return wrong;
}
