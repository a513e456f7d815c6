/**
 * Property-based HTTP fuzzing of the real server over real HTTP (fast-check).
 *
 * Every generated request is checked for three things:
 * 1. never a 5xx nor a dropped connection, and every error is `{error, message}` JSON with the
 *    status `ERROR_STATUS` gives its code (the only bare answers allowed are node:http's own 400
 *    and 431 for requests that are not valid HTTP, or whose headers exceed its 16 KiB limit);
 * 2. never a token where none is due: a response that sets a live cookie or carries an access
 *    or refresh token must be a 200/201 to `POST` signup, login, refresh or password, with the
 *    CSRF rules of docs/api.md, CSRF met where they apply, built from a credential the server really
 *    issued (or, for signup, a well-formed body), and must say `Cache-Control: no-store`;
 * 3. the process stays up: after the runs `/health` answers and signup → refresh → me works.
 *
 * Requests are generated symbolically ("the newest access token, truncated"), resolved against
 * the credentials issued so far, so a counterexample reads well and replays on a fresh server.
 * A failure prints fast-check's `seed` and `path`; replay with
 * `HUSH_FUZZ_SEED=<seed> HUSH_FUZZ_PATH=<path> npx vitest run packages/server/test/http-fuzz.test.ts -t '<failing test name>'`.
 * `HUSH_FUZZ_RUNS` scales every run count (say `HUSH_FUZZ_RUNS=10` for a long local soak).
 */
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { ERROR_STATUS, type ErrorCode, PATHS } from "@hush/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { type Exchange, headerValues, type Outcome, sendRaw, sendWithFetch, sendWithHttp, serialize } from "./http-fuzz-transport.js";
import { createTestServer, refreshWith, signUp, type TestServer } from "./test-server.js";

const SEED = process.env.HUSH_FUZZ_SEED ? Number(process.env.HUSH_FUZZ_SEED) : undefined;
const PATH = process.env.HUSH_FUZZ_PATH || undefined;
const SCALE = Number(process.env.HUSH_FUZZ_RUNS ?? 1) || 1;
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** fast-check settings: fixed run counts, a wall-clock cap as a safety net for slow CI machines. */
const settings = (numRuns: number, capMs: number) => ({
  numRuns: runs(numRuns),
  seed: SEED,
  path: PATH,
  interruptAfterTimeLimit: capMs * SCALE,
  markInterruptAsFailure: false,
});

const MAX_BODY_BYTES = 16 * 1024;
/** node:http's default header limit: beyond it node answers a bare 431 (or drops the socket). */
const NODE_HEADER_LIMIT = 16 * 1024;
const RESPONSE_WAIT_MS = 10_000;
const POOL = ["violet-otter-keeps-42-secrets", "amber-heron-folds-17-maps", "quiet-lynx-paints-93-doors"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND", "patch", "QUERY"];
/** Methods node:http parses; any other gets node's own bare 400. */
const NODE_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND", "QUERY"]);
const SUCCESS = new Set([200, 201, 202, 204, 304]);
const ISSUING = new Set<string>([PATHS.signup, PATHS.login, PATHS.refresh, PATHS.password]);

// ————— the model: what the server has legitimately handed out so far —————

interface Model {
  /** Accounts by normalised email, with the password they have now. */
  accounts: Map<string, string>;
  /** Every password an account legitimately had: logging in with any of them may succeed. */
  passwords: Map<string, Set<string>>;
  access: string[];
  accessOwner: Map<string, string>;
  refresh: string[];
  jwksKeys: Uint8Array[];
  fresh: number;
  /** Positive control: token responses seen, by path, so the oracle is not vacuous. */
  granted: Map<string, number>;
}

function recordAccount(model: Model, email: string, password: string): void {
  const key = email.trim().toLowerCase();
  model.accounts.set(key, password);
  const known = model.passwords.get(key) ?? new Set<string>();
  known.add(password);
  model.passwords.set(key, known);
}

function recordTokens(model: Model, accessToken: string, email: string, refresh: string | undefined): void {
  model.access.push(accessToken);
  model.accessOwner.set(accessToken, email.trim().toLowerCase());
  if (refresh) model.refresh.push(refresh);
}

// ————— symbolic requests —————

type Mutation =
  | { op: "truncate"; keep: number }
  | { op: "flip"; at: number; char: string }
  | { op: "append"; text: string }
  | { op: "case"; at: number }
  | { op: "drop-signature" }
  | { op: "alg-none" }
  | { op: "hs256-with-public-key" }
  | { op: "edit-claim"; claim: string; value: fc.JsonValue };

/** A credential the server issued: `recent` counts back from the newest, `mutation` spoils it. */
interface CredRef {
  recent: number;
  mutation?: Mutation;
}

type AuthSpec =
  | { kind: "none" }
  | { kind: "bearer"; scheme: string; token: CredRef }
  | { kind: "refresh-as-bearer"; token: CredRef }
  | { kind: "raw"; value: string };

type CookieSpec =
  | { kind: "none" }
  | { kind: "real"; name: string; token: CredRef; around: string[] }
  | { kind: "duplicate"; realFirst: boolean; token: CredRef; other: string }
  | { kind: "access-as-cookie"; token: CredRef }
  | { kind: "long"; name: string; size: number }
  | { kind: "raw"; value: string };

type EmailSpec = { account: number; variant: "exact" | "upper" | "padded" } | { fresh: true } | { literal: string };
type PasswordSpec = { current: true } | { pool: number } | { literal: string };

type BodySpec =
  | { kind: "none" }
  | { kind: "route-default" }
  | {
      kind: "fields";
      fields: { email?: EmailSpec; password?: PasswordSpec; currentPassword?: PasswordSpec; newPassword?: PasswordSpec };
      extra: fc.JsonValue;
      encoding: Encoding;
    }
  | { kind: "json"; value: fc.JsonValue }
  | { kind: "nested"; depth: number; open: "[" | '{"a":'; closed: boolean }
  | { kind: "text"; text: string }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "huge"; totalBytes: number; filler: string };

type Encoding =
  | { as: "json" }
  | { as: "bom" }
  | { as: "gzip" }
  | { as: "truncate"; keep: number }
  | { as: "bad-utf8"; at: number; bytes: number[] }
  | { as: "pad"; totalBytes: number; filler: string };

type PathSpec =
  | {
      route: number;
      param: { sid: CredRef } | { text: string };
      query: string;
      twist: "none" | "trailing-slash" | "upper" | "double-slash" | "dot-segment";
    }
  | { unknown: string[]; query: string };

interface RequestSpec {
  transport: "fetch" | "http" | "http-chunked";
  chunkSizes: number[];
  method: { routeMethod: true } | { literal: string };
  path: PathSpec;
  csrf: string | null;
  origin: { good: true } | { near: "trailing-slash" | "upper-case" | "other-port" | "https" | "localhost" } | { literal: string } | null;
  secFetchSite: string | null;
  contentType: string | null;
  contentEncoding: string | null;
  authorization: AuthSpec;
  cookie: CookieSpec;
  body: BodySpec;
  extra: [string, string][];
}

/** How much of a request is left well-formed: `valid` keeps every part good, `wild` few, `bad` none. */
type Level = "valid" | "near" | "wild" | "bad";
const GOOD_WEIGHT: Record<Level, number> = { valid: 1, near: 0.85, wild: 0.3, bad: 0 };

function choose<T>(level: Level, good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> {
  const weight = GOOD_WEIGHT[level];
  if (weight >= 1) return good;
  if (weight <= 0) return bad;
  return fc.oneof({ weight: Math.round(weight * 100), arbitrary: good }, { weight: Math.round((1 - weight) * 100), arbitrary: bad });
}

/** Header text: printable ASCII with some latin1 bytes (sent by node:http, not fetch). */
const headerText = (maxLength = 40) =>
  fc.string({
    unit: fc
      .oneof(
        { weight: 12, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
        { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
      )
      .map((code) => String.fromCharCode(code)),
    maxLength,
  });

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), keep: fc.nat() }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), char: fc.constantFrom("A", "_", "-", ".", "=", "0", "+", "/", " ") }),
  fc.record({ op: fc.constant("append" as const), text: fc.oneof(fc.constantFrom(".", "=", "==", ".x", " x"), headerText(8)) }),
  fc.record({ op: fc.constant("case" as const), at: fc.nat() }),
  fc.constant({ op: "drop-signature" as const }),
  fc.constant({ op: "alg-none" as const }),
  fc.constant({ op: "hs256-with-public-key" as const }),
  fc.record({
    op: fc.constant("edit-claim" as const),
    claim: fc.constantFrom("sub", "sid", "exp", "aud", "iss", "typ", "sst", "client_id"),
    value: fc.oneof(fc.constantFrom<fc.JsonValue>(null, 0, 9_999_999_999, "x", ["hush"]), fc.jsonValue({ maxDepth: 1 })),
  }),
);

const credRef = (mutated: boolean): fc.Arbitrary<CredRef> =>
  mutated ? fc.record({ recent: fc.nat({ max: 6 }), mutation: mutationArb }) : fc.record({ recent: fc.nat({ max: 3 }) });

function authArb(level: Level): fc.Arbitrary<AuthSpec> {
  const good: fc.Arbitrary<AuthSpec> = fc.record({
    kind: fc.constant("bearer" as const),
    scheme: fc.constantFrom("Bearer", "Bearer", "bearer", "BEARER", "Bearer  "),
    token: credRef(false),
  });
  const bad = fc.oneof(
    fc.constant({ kind: "none" as const }),
    fc.record({ kind: fc.constant("bearer" as const), scheme: fc.constantFrom("Bearer", "bearer"), token: credRef(true) }),
    fc.record({ kind: fc.constant("refresh-as-bearer" as const), token: credRef(false) }),
    fc.record({
      kind: fc.constant("raw" as const),
      value: fc.oneof(
        fc.constantFrom(
          "Bearer",
          "Bearer ",
          "Bearer  ",
          "bearer",
          "Basic dXNlcjpwYXNz",
          "Bearer a b",
          "Bearer =",
          "Token abc",
          "Bearer ...",
          "",
        ),
        headerText(60),
        headerText(60).map((s) => `Bearer ${s}`),
        fc.nat({ max: 20_000 }).map((n) => `Bearer ${"A".repeat(n)}`),
      ),
    }),
  );
  return choose(level, good, bad);
}

function cookieArb(level: Level): fc.Arbitrary<CookieSpec> {
  const otherCookie = fc.oneof(fc.constantFrom("a=b", "theme=dark", "__Host-hush_device=x.y", "=", "x", ""), headerText(20));
  const good = fc.record({
    kind: fc.constant("real" as const),
    name: fc.constant("__Host-hush_rt"),
    token: credRef(false),
    around: fc.array(fc.constantFrom("a=b", "theme=dark"), { maxLength: 2 }),
  });
  const bad = fc.oneof(
    fc.constant({ kind: "none" as const }),
    fc.record({
      kind: fc.constant("real" as const),
      name: fc.constantFrom("__Host-hush_rt", "hush_rt", "__host-hush_rt", "__Host-hush_rt ", "__Host-hush_device"),
      token: credRef(true),
      around: fc.array(otherCookie, { maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant("duplicate" as const), realFirst: fc.boolean(), token: credRef(false), other: headerText(30) }),
    fc.record({ kind: fc.constant("access-as-cookie" as const), token: credRef(false) }),
    fc.record({
      kind: fc.constant("long" as const),
      name: fc.constantFrom("__Host-hush_rt", "junk"),
      size: fc.oneof(fc.integer({ min: 1_000, max: 15_000 }), fc.integer({ min: 15_500, max: 40_000 })),
    }),
    fc.record({
      kind: fc.constant("raw" as const),
      value: fc.oneof(headerText(80), fc.constantFrom("__Host-hush_rt=", "__Host-hush_rt", ";;;", '__Host-hush_rt=""')),
    }),
  );
  return choose(level, good, bad);
}

const passwordArb: fc.Arbitrary<PasswordSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ current: true as const }) },
  { weight: 2, arbitrary: fc.record({ pool: fc.nat({ max: POOL.length - 1 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      literal: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom("", "password", "12345678", "x".repeat(257), "x".repeat(4097), "\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"),
        fc.string({ unit: "binary", maxLength: 20 }),
      ),
    }),
  },
);

const emailArb: fc.Arbitrary<EmailSpec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ account: fc.nat({ max: 5 }), variant: fc.constantFrom("exact" as const, "upper" as const, "padded" as const) }),
  },
  { weight: 2, arbitrary: fc.constant({ fresh: true as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      literal: fc.oneof(
        fc.emailAddress(),
        fc.string({ maxLength: 30 }),
        fc.constantFrom("", "@", "a@b", " a@example.com ", `${"a".repeat(250)}@example.com`),
      ),
    }),
  },
);

const encodingArb: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ as: "json" as const }) },
  { weight: 1, arbitrary: fc.constant({ as: "bom" as const }) },
  { weight: 1, arbitrary: fc.constant({ as: "gzip" as const }) },
  { weight: 1, arbitrary: fc.record({ as: fc.constant("truncate" as const), keep: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      as: fc.constant("bad-utf8" as const),
      at: fc.nat(),
      bytes: fc.constantFrom<number[]>([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ as: fc.constant("pad" as const), totalBytes: nearLimit(), filler: fc.constantFrom(" ", "x", "é", "😀") }),
  },
);

/** Sizes around the 16 KiB limit, and far over it. */
function nearLimit(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: MAX_BODY_BYTES - 8, max: MAX_BODY_BYTES + 8 }),
    fc.integer({ min: MAX_BODY_BYTES - 512, max: MAX_BODY_BYTES + 512 }),
    fc.integer({ min: MAX_BODY_BYTES + 513, max: 256 * 1024 }),
  );
}

function bodyArb(level: Level): fc.Arbitrary<BodySpec> {
  const fields = fc.record(
    { email: emailArb, password: passwordArb, currentPassword: passwordArb, newPassword: passwordArb },
    { requiredKeys: [] },
  );
  const bad: fc.Arbitrary<BodySpec> = fc.oneof(
    fc.constant({ kind: "none" as const }),
    fc.record({
      kind: fc.constant("fields" as const),
      fields,
      extra: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
      encoding: encodingArb,
    }),
    fc.record({ kind: fc.constant("json" as const), value: fc.jsonValue({ maxDepth: 4 }) }),
    fc.record({
      kind: fc.constant("nested" as const),
      depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1_000, max: 20_000 })),
      open: fc.constantFrom("[" as const, '{"a":' as const),
      closed: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant("text" as const),
      text: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 })),
    }),
    fc.record({ kind: fc.constant("bytes" as const), bytes: fc.uint8Array({ maxLength: 2048 }) }),
    fc.record({ kind: fc.constant("huge" as const), totalBytes: nearLimit(), filler: fc.constantFrom("x", "é", " ", "😀") }),
  );
  return choose(level, fc.constant({ kind: "route-default" as const }), bad);
}

function pathArb(routes: readonly Route[]): fc.Arbitrary<PathSpec> {
  const query = fc.oneof(
    { weight: 6, arbitrary: fc.constant("") },
    { weight: 1, arbitrary: fc.oneof(fc.nat(), fc.string({ maxLength: 20 })).map((v) => `?since=${encodeURIComponent(String(v))}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`) },
  );
  const route = fc.record({
    // Every route the server lists; POST routes (where credentials are issued) twice as often.
    route: fc.constantFrom(...routes.flatMap((r, i) => (r.method === "POST" ? [i, i] : [i]))),
    param: fc.oneof(
      fc.record({ sid: credRef(false) }),
      fc.record({
        text: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("", "a".repeat(22), "..", "%00", "a/b", "x".repeat(5000))),
      }),
    ),
    query,
    twist: fc.oneof(
      { weight: 8, arbitrary: fc.constant("none" as const) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("trailing-slash" as const, "upper" as const, "double-slash" as const, "dot-segment" as const),
      },
    ),
  });
  const unknown = fc.record({
    unknown: fc.array(
      fc.oneof(
        fc.constantFrom("auth", "login", "..", ".", "%2e%2e", "AUTH", "health", "%00", "", ".well-known", "%ff", "sessions"),
        fc.string({ maxLength: 12 }),
      ),
      { minLength: 1, maxLength: 5 },
    ),
    query,
  });
  return fc.oneof({ weight: 4, arbitrary: route }, { weight: 1, arbitrary: unknown });
}

type Route = { method: string; path: string };

function requestArb(level: Level, routes: readonly Route[]): fc.Arbitrary<RequestSpec> {
  return fc.record({
    transport: fc.constantFrom("fetch" as const, "fetch" as const, "http" as const, "http-chunked" as const),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 4 }),
    method: choose<RequestSpec["method"]>(
      level,
      fc.constant({ routeMethod: true as const }),
      fc.record({ literal: fc.constantFrom(...METHODS) }),
    ),
    path: pathArb(routes),
    csrf: choose(
      level,
      fc.constantFrom("1", " 1"),
      fc.oneof(fc.constant(null), fc.constantFrom("0", "", "true", "1, 1", "2"), headerText(10)),
    ),
    origin: choose<RequestSpec["origin"]>(
      level,
      fc.oneof(fc.constant({ good: true as const }), fc.constant(null)),
      fc.oneof(
        // Near misses of the allowed origin: origins are compared exactly (docs/api.md, CSRF).
        fc.record({
          near: fc.constantFrom(
            "trailing-slash" as const,
            "upper-case" as const,
            "other-port" as const,
            "https" as const,
            "localhost" as const,
          ),
        }),
        fc.record({
          literal: fc.oneof(
            fc.constantFrom("null", "http://evil.example", "http://127.0.0.1:1", "https://127.0.0.1", "", "http://localhost", "file://"),
            headerText(30),
          ),
        }),
      ),
    ),
    secFetchSite: choose(
      level,
      fc.constantFrom(null, "same-origin", "none"),
      fc.oneof(fc.constantFrom("same-site", "cross-site", "cross-site", "Cross-Site", ""), headerText(12)),
    ),
    contentType: choose(
      level,
      fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        "application/json ; charset=latin1",
      ),
      fc.oneof(
        fc.constantFrom(
          null,
          "text/plain",
          "text/plain;charset=UTF-8",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=----fuzz",
          "application/jsonx",
          "application/json-patch+json",
          "json",
          "",
          "application/json, text/plain",
        ),
        headerText(30),
      ),
    ),
    contentEncoding: fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.oneof(fc.constantFrom("gzip", "deflate", "br", "identity", "gzip, deflate", "x-gzip", "zstd"), headerText(10)),
      },
    ),
    authorization: authArb(level),
    cookie: cookieArb(level),
    body: bodyArb(level),
    extra: fc.array(
      fc.oneof(
        fc.tuple(
          fc.constantFrom("user-agent", "if-none-match", "accept-encoding", "x-forwarded-for", "accept", "range", "x-real-ip"),
          headerText(60),
        ),
        fc.tuple(fc.constant("access-control-request-method"), fc.constantFrom(...METHODS)),
        fc.tuple(fc.constant("access-control-request-headers"), fc.constantFrom("x-hush-csrf", "content-type, authorization", "*")),
        fc.tuple(
          fc.constant("user-agent"),
          fc.nat({ max: 12_000 }).map((n) => "U".repeat(n)),
        ),
        // Repeated CSRF and Origin headers: node:http joins them with ", ", which no check may take for "1" or an origin.
        fc.tuple(fc.constantFrom("x-hush-csrf", "origin"), fc.constantFrom("1", "null", "http://evil.example")),
      ),
      { maxLength: 3 },
    ),
  });
}

/** The parts of a request one defect can spoil. */
const SPOILABLE = ["method", "csrf", "origin", "secFetchSite", "contentType", "authorization", "cookie", "body", "extra"] as const;

/**
 * The mix every property draws from: fully valid requests (the oracle's "may grant" side), valid
 * ones with exactly one part spoiled (each check on its own: the likeliest way to catch a bypass),
 * nearly valid ones, and wild ones.
 */
const requestMix = (routes: readonly Route[]) =>
  fc.oneof(
    { weight: 20, arbitrary: requestArb("valid", routes) },
    {
      weight: 40,
      arbitrary: fc
        .tuple(requestArb("valid", routes), requestArb("bad", routes), fc.constantFrom(...SPOILABLE))
        .map(([valid, bad, part]): RequestSpec => ({ ...valid, [part]: bad[part] })),
    },
    { weight: 20, arbitrary: requestArb("near", routes) },
    { weight: 20, arbitrary: requestArb("wild", routes) },
  );

// ————— resolving a symbolic request into bytes —————

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment ?? "", "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function mutate(token: string, mutation: Mutation | undefined, model: Model): string {
  if (!mutation) return token;
  const [head = "", payload = "", signature = ""] = token.split(".");
  const isJwt = token.split(".").length === 3 && decodeSegment(head) !== undefined;
  switch (mutation.op) {
    case "truncate":
      return token.slice(0, mutation.keep % Math.max(1, token.length));
    case "flip": {
      const at = mutation.at % token.length;
      return token.slice(0, at) + mutation.char + token.slice(at + 1);
    }
    case "append":
      return token + mutation.text;
    case "case": {
      const at = mutation.at % token.length;
      const c = token.charAt(at);
      const swapped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
      return token.slice(0, at) + swapped + token.slice(at + 1);
    }
    case "drop-signature":
      return `${token.slice(0, token.lastIndexOf(".") + 1)}`;
    case "alg-none":
      return isJwt ? `${b64({ ...decodeSegment(head), alg: "none" })}.${payload}.` : `${b64({ alg: "none" })}.${token}.`;
    case "hs256-with-public-key": {
      // The classic algorithm confusion: HMAC keyed with the public key the JWKS publishes.
      const header = b64({ ...(isJwt ? decodeSegment(head) : {}), alg: "HS256" });
      const body = isJwt ? payload : b64({ sub: "x" });
      const key = model.jwksKeys[0] ?? new Uint8Array(32);
      return `${header}.${body}.${createHmac("sha256", key).update(`${header}.${body}`).digest("base64url")}`;
    }
    case "edit-claim":
      return isJwt ? `${head}.${b64({ ...decodeSegment(payload), [mutation.claim]: mutation.value })}.${signature}` : `${token}x`;
  }
}

function pickFrom(list: readonly string[], ref: CredRef, model: Model): string {
  const token = list[list.length - 1 - (ref.recent % Math.max(1, list.length))] ?? "none";
  return mutate(token, ref.mutation, model);
}

function accountAt(model: Model, index: number): [string, string] {
  const accounts = [...model.accounts];
  return accounts[index % accounts.length] ?? ["nobody@example.com", POOL[0]!];
}

interface Resolved {
  exchange: Exchange;
  /** Transport to use; the chunk sizes, for chunked bodies. */
  transport: RequestSpec["transport"];
  chunkSizes: number[];
}

function resolve(spec: RequestSpec, model: Model, t: TestServer): Resolved {
  const routes = t.server.routes;
  // Path and method.
  let target: string;
  let routeMethod = "GET";
  let routePath = "";
  if ("route" in spec.path) {
    const route = routes[spec.path.route % routes.length]!;
    routeMethod = route.method;
    routePath = route.path;
    const param = "sid" in spec.path.param ? sidOf(pickFrom(model.access, spec.path.param.sid, model)) : spec.path.param.text;
    let path = route.path.replace(/:[A-Za-z_]+/g, () => encodeURIComponent(param));
    if (spec.path.twist === "trailing-slash") path += "/";
    if (spec.path.twist === "upper") path = path.toUpperCase();
    if (spec.path.twist === "double-slash") path = path.replace(/\//g, "//");
    if (spec.path.twist === "dot-segment") path = `/auth/..${path}`;
    target = path + spec.path.query;
  } else {
    // Dot segments and percent escapes (valid or not) are sent as they are; anything else encoded.
    target = `/${spec.path.unknown.map((s) => (/^[A-Za-z0-9%._~-]*$/.test(s) ? s : encodeURIComponent(s))).join("/")}${spec.path.query}`;
  }
  const method = "routeMethod" in spec.method ? routeMethod : spec.method.literal;

  const headers: [string, string][] = [];
  if (spec.csrf !== null) headers.push(["X-Hush-Csrf", spec.csrf]);
  if (spec.origin !== null) headers.push(["Origin", originOf(spec.origin, t.origin)]);
  if (spec.secFetchSite !== null) headers.push(["Sec-Fetch-Site", spec.secFetchSite]);
  if (spec.contentEncoding !== null) headers.push(["Content-Encoding", spec.contentEncoding]);

  let ownerEmail: string | undefined;
  const auth = spec.authorization;
  if (auth.kind === "bearer") {
    const token = pickFrom(model.access, auth.token, model);
    ownerEmail = model.accessOwner.get(token);
    headers.push(["Authorization", `${auth.scheme} ${token}`]);
  } else if (auth.kind === "refresh-as-bearer") {
    headers.push(["Authorization", `Bearer ${pickFrom(model.refresh, auth.token, model)}`]);
  } else if (auth.kind === "raw") {
    headers.push(["Authorization", auth.value]);
  }

  const cookie = spec.cookie;
  if (cookie.kind === "real") {
    headers.push(["Cookie", [...cookie.around, `${cookie.name}=${pickFrom(model.refresh, cookie.token, model)}`].join("; ")]);
  } else if (cookie.kind === "duplicate") {
    const real = `__Host-hush_rt=${pickFrom(model.refresh, cookie.token, model)}`;
    const other = `__Host-hush_rt=${cookie.other}`;
    headers.push(["Cookie", cookie.realFirst ? `${real}; ${other}` : `${other}; ${real}`]);
  } else if (cookie.kind === "access-as-cookie") {
    headers.push(["Cookie", `__Host-hush_rt=${pickFrom(model.access, cookie.token, model)}`]);
  } else if (cookie.kind === "long") {
    headers.push(["Cookie", `${cookie.name}=${"c".repeat(cookie.size)}`]);
  } else if (cookie.kind === "raw") {
    headers.push(["Cookie", cookie.value]);
  }

  const body = resolveBody(spec.body, routeMethod, routePath, model, ownerEmail);
  // A body needs a type to be read; without one a route-default body would be refused as 415.
  if (spec.contentType !== null) headers.push(["Content-Type", spec.contentType]);
  headers.push(...spec.extra);

  let transport = spec.transport;
  const nonAscii = headers.some(([, v]) => /[^\x20-\x7e]/.test(v));
  const repeated = new Set(headers.map(([n]) => n.toLowerCase())).size !== headers.length;
  // fetch refuses a body on GET/HEAD and normalises paths and header values: node:http sends them as they are.
  if (transport === "fetch" && (nonAscii || repeated || (body && ["GET", "HEAD"].includes(method.toUpperCase())))) transport = "http";
  if (transport !== "fetch" && method !== method.toUpperCase()) transport = "fetch";
  return { exchange: { method, target, headers, body }, transport, chunkSizes: spec.chunkSizes };
}

function originOf(spec: NonNullable<RequestSpec["origin"]>, good: string): string {
  if ("literal" in spec) return spec.literal;
  if ("good" in spec) return good;
  const url = new URL(good);
  switch (spec.near) {
    case "trailing-slash":
      return `${good}/`;
    case "upper-case":
      return good.toUpperCase();
    case "other-port":
      return `${url.protocol}//${url.hostname}:${Number(url.port) + 1}`;
    case "https":
      return good.replace(/^http:/, "https:");
    case "localhost":
      return `${url.protocol}//localhost:${url.port}`;
  }
}

function resolveBody(
  spec: BodySpec,
  routeMethod: string,
  routePath: string,
  model: Model,
  owner: string | undefined,
): Uint8Array | undefined {
  const text = (s: string) => new TextEncoder().encode(s);
  switch (spec.kind) {
    case "none":
      return undefined;
    case "route-default": {
      if (routePath === PATHS.signup) return text(JSON.stringify({ email: freshEmail(model), password: POOL[model.fresh % POOL.length] }));
      if (routePath === PATHS.login) {
        const [email, password] = accountAt(model, model.fresh++);
        return text(JSON.stringify({ email, password }));
      }
      if (routePath === PATHS.password) {
        const current = owner ? model.accounts.get(owner) : undefined;
        return text(JSON.stringify({ currentPassword: current ?? POOL[0], newPassword: POOL[model.fresh++ % POOL.length] }));
      }
      // Any other POST (a new endpoint, say) gets an empty JSON object.
      return routeMethod === "POST" ? text("{}") : undefined;
    }
    case "fields": {
      const value: Record<string, unknown> = {};
      let account: [string, string] | undefined;
      if (spec.fields.email) {
        const e = spec.fields.email;
        if ("account" in e) {
          account = accountAt(model, e.account);
          value.email = e.variant === "exact" ? account[0] : e.variant === "upper" ? account[0].toUpperCase() : `  ${account[0]}\t`;
        } else value.email = "fresh" in e ? freshEmail(model) : e.literal;
      }
      const password = (p: PasswordSpec | undefined, current: string | undefined) =>
        p === undefined ? undefined : "current" in p ? (current ?? POOL[0]) : "pool" in p ? POOL[p.pool] : p.literal;
      const ownerPassword = owner ? model.accounts.get(owner) : undefined;
      if (spec.fields.password) value.password = password(spec.fields.password, account?.[1]);
      if (spec.fields.currentPassword) value.currentPassword = password(spec.fields.currentPassword, ownerPassword);
      if (spec.fields.newPassword) value.newPassword = password(spec.fields.newPassword, ownerPassword);
      if (spec.extra !== null) value.extra = spec.extra;
      return encode(JSON.stringify(value), spec.encoding);
    }
    case "json":
      return text(JSON.stringify(spec.value));
    case "nested": {
      const close = spec.open === "[" ? "]" : "}";
      return text(spec.open.repeat(spec.depth) + (spec.closed ? `1${close.repeat(spec.depth)}` : ""));
    }
    case "text":
      return text(spec.text);
    case "bytes":
      return spec.bytes;
    case "huge":
      return padTo(`{"email":"huge@example.com","password":"`, '"}', spec.totalBytes, spec.filler);
  }
}

function freshEmail(model: Model): string {
  model.fresh += 1;
  return `fuzz-${model.fresh}-${process.pid}-${Date.now().toString(36)}@example.com`;
}

/** JSON text of about `totalBytes` bytes: `prefix`, filler (possibly multi-byte), `suffix`. */
function padTo(prefix: string, suffix: string, totalBytes: number, filler: string): Uint8Array {
  const fixed = Buffer.byteLength(prefix + suffix);
  const count = Math.max(0, Math.floor((totalBytes - fixed) / Buffer.byteLength(filler)));
  return new TextEncoder().encode(prefix + filler.repeat(count) + suffix);
}

function encode(json: string, encoding: Encoding): Uint8Array {
  const bytes = new TextEncoder().encode(json);
  switch (encoding.as) {
    case "json":
      return bytes;
    case "bom":
      return new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);
    case "gzip":
      return new Uint8Array(gzipSync(bytes));
    case "truncate":
      return bytes.subarray(0, encoding.keep % Math.max(1, bytes.length));
    case "bad-utf8": {
      const at = encoding.at % (bytes.length + 1);
      return new Uint8Array([...bytes.subarray(0, at), ...encoding.bytes, ...bytes.subarray(at)]);
    }
    case "pad":
      return padTo(json.slice(0, -1) + (json.length > 2 ? ',"pad":"' : '"pad":"'), '"}', encoding.totalBytes, encoding.filler);
  }
}

function sidOf(token: string): string {
  const sid = decodeSegment(token.split(".")[1])?.sid;
  return typeof sid === "string" ? sid : "no-sid";
}

// ————— the oracle —————

/** A header as a server sees it: repeated lines joined with ", " (RFC 9110 §5.3), or null. */
function field(exchange: Exchange, name: string): string | null {
  const values = headerValues(exchange.headers, name).map((v) => v.trim());
  return values.length ? values.join(", ") : null;
}

/** The CSRF rules of docs/api.md, CSRF, written from the contract, not from the server's code. */
function passesCsrf(exchange: Exchange, origin: string): boolean {
  if (field(exchange, "x-hush-csrf") !== "1") return false;
  const sent = field(exchange, "origin");
  if (sent !== null) return sent === origin;
  return field(exchange, "sec-fetch-site") !== "cross-site";
}

function jsonObjectOf(exchange: Exchange): Record<string, unknown> | undefined {
  const type = field(exchange, "content-type");
  if (type === null || type.split(";")[0]?.trim().toLowerCase() !== "application/json") return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(exchange.body ?? new Uint8Array()));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a request target is URI syntax (RFC 3986): node:http and its adapter answer a bare
 * 400 to some that are not (a backslash in the path, say), before Hush sees the request.
 */
function isUriTarget(target: string): boolean {
  return /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/.test(target);
}

/** The path a router sees: dot segments resolved (WHATWG URL), then percent-decoded. */
function routedPath(target: string): string {
  try {
    const { pathname } = new URL(`http://x${target.startsWith("/") ? "" : "/"}${target}`);
    try {
      return decodeURI(pathname);
    } catch {
      return pathname;
    }
  } catch {
    return target;
  }
}

/** Whether this exact request may be answered with a token or a live refresh cookie. */
function mayGrant(exchange: Exchange, model: Model, origin: string): boolean {
  if (exchange.method !== "POST") return false;
  const path = routedPath(exchange.target);
  const body = jsonObjectOf(exchange);
  switch (path) {
    case PATHS.signup:
      // Anyone may sign up: a well-formed body is the whole credential.
      return passesCsrf(exchange, origin) && typeof body?.email === "string" && typeof body.password === "string";
    case PATHS.login: {
      if (!passesCsrf(exchange, origin) || typeof body?.email !== "string" || typeof body.password !== "string") return false;
      return model.passwords.get(body.email.trim().toLowerCase())?.has(body.password) ?? false;
    }
    case PATHS.refresh: {
      if (!passesCsrf(exchange, origin)) return false;
      const values = (field(exchange, "cookie") ?? "").split(/[;,]/).map((pair) => pair.slice(pair.indexOf("=") + 1).trim());
      return values.some((value) => model.refresh.includes(value));
    }
    case PATHS.password: {
      // Bearer-authenticated, so no CSRF header is needed (docs/api.md, CSRF lists the cookie endpoints).
      const token = /^bearer +(\S+) *$/i.exec(field(exchange, "authorization") ?? "")?.[1];
      const owner = token && model.access.includes(token) ? model.accessOwner.get(token) : undefined;
      if (!owner || typeof body?.currentPassword !== "string" || typeof body.newPassword !== "string") return false;
      return model.passwords.get(owner)?.has(body.currentPassword) ?? false;
    }
    default:
      return false;
  }
}

const JWS = /[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g;

/** Everything in a response that hands out a credential: live cookies, token fields, token JWTs. */
function grantsIn(status: number, headers: [string, string][], bodyText: string, requestText: string): string[] {
  const found: string[] = [];
  for (const cookie of headerValues(headers, "set-cookie")) {
    const [pair = "", ...attributes] = cookie.split(";");
    const value = pair.slice(pair.indexOf("=") + 1).trim();
    const cleared = value === "" || attributes.some((a) => /^\s*max-age\s*=\s*0*\s*$/i.test(a) || /^\s*max-age\s*=\s*-/i.test(a));
    if (!cleared) found.push(`sets cookie ${pair.slice(0, pair.indexOf("="))}`);
  }
  if (headerValues(headers, "x-access-token").some((v) => v.trim() !== "")) found.push("X-Access-Token header");
  try {
    const json: unknown = JSON.parse(bodyText);
    if (typeof json === "object" && json !== null && "accessToken" in json) found.push("accessToken in body");
  } catch {
    // Not JSON: the JWT scan below still applies.
  }
  const haystack = `${bodyText}\n${headers.map(([n, v]) => `${n}: ${v}`).join("\n")}`;
  for (const match of haystack.match(JWS) ?? []) {
    const typ = decodeSegment(match.split(".")[0])?.typ;
    // A JWT the request carried is only echoed, not granted.
    if (typeof typ === "string" && /^(application\/)?(at|rt)\+jwt$/i.test(typ) && !requestText.includes(match))
      found.push(`${typ} in ${status} response`);
  }
  return found;
}

const latin1 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString("latin1");
const requestText = (exchange: Exchange) =>
  `${exchange.target}\n${exchange.headers.map(([n, v]) => `${n}: ${v}`).join("\n")}\n${latin1(exchange.body)}`;

function show(exchange: Exchange): string {
  const clip = (s: string, n = 240) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);
  return [
    `${exchange.method} ${clip(exchange.target)}`,
    ...exchange.headers.map(([n, v]) => `${n}: ${clip(JSON.stringify(v))}`),
    exchange.body ? `body (${exchange.body.byteLength} bytes): ${clip(JSON.stringify(latin1(exchange.body)))}` : "no body",
  ].join("\n  ");
}

interface Checked {
  status: number;
  headers: [string, string][];
  bodyText: string;
}

/**
 * Checks one answer against properties 1 and 2 and throws a readable error if it breaks one.
 * `bareAllowed` names node:http's own bare answers the request may get (not valid HTTP, headers too big).
 */
function check(
  exchange: Exchange,
  response: Checked,
  model: Model,
  origin: string,
  bareAllowed: ReadonlySet<number>,
  strict: boolean,
): void {
  const { status, headers, bodyText } = response;
  const fail = (problem: string): never => {
    throw new Error(
      `${problem}\nrequest:\n  ${show(exchange)}\nresponse: ${status} ${JSON.stringify(headers)}\n  ${bodyText.slice(0, 400)}`,
    );
  };
  if (status >= 500) fail(`a ${status}`);
  const contentType = headerValues(headers, "content-type")[0] ?? "";
  if (status >= 400) {
    const bare = !contentType && bodyText.replace(/^0\r\n\r\n$/, "") === "";
    if (bare && bareAllowed.has(status)) return;
    if (exchange.method === "HEAD" && bodyText === "") {
      if (!Object.values(ERROR_STATUS).includes(status as never)) fail(`HEAD answered ${status}, not a status of the error table`);
    } else {
      let error: unknown;
      try {
        error = JSON.parse(bodyText);
      } catch {
        fail("an error response that is not JSON");
      }
      const { error: code, message } = (error ?? {}) as { error?: unknown; message?: unknown };
      if (!/^application\/json/i.test(contentType)) fail("an error response without Content-Type: application/json");
      if (typeof code !== "string" || typeof message !== "string") fail("an error body without string `error` and `message`");
      if (!Object.hasOwn(ERROR_STATUS, code as string)) fail(`unknown error code ${String(code)}`);
      if (ERROR_STATUS[code as ErrorCode] !== status)
        fail(`${String(code)} answered with ${status}, the table says ${ERROR_STATUS[code as ErrorCode]}`);
      if (code === "invalid_token" && !/^Bearer\b/.test(headerValues(headers, "www-authenticate")[0] ?? "")) {
        fail("invalid_token without WWW-Authenticate: Bearer");
      }
      if (code === "rate_limited" && headerValues(headers, "retry-after").length === 0) fail("rate_limited without Retry-After");
    }
  } else if (!SUCCESS.has(status)) {
    fail(`an unexpected status ${status}`);
  }

  const grants = grantsIn(status, headers, bodyText, requestText(exchange));
  if (grants.length === 0) return;
  const allowed = strict ? mayGrant(exchange, model, origin) : mayGrantLoosely(exchange, model);
  if (!allowed || !(status === 200 || status === 201)) fail(`a credential where none is due (${grants.join(", ")})`);
  if (!ISSUING.has(routedPath(exchange.target)) && strict) fail(`a credential from ${exchange.target}`);
  if (!headerValues(headers, "cache-control").some((v) => /no-store/i.test(v))) fail("a token response without Cache-Control: no-store");
}

/**
 * For requests whose framing was mangled (the server may read them differently from what was
 * meant): a token may only come back if the bytes carried a real credential somewhere, or a
 * signup-shaped body. Pure garbage never qualifies.
 */
function mayGrantLoosely(exchange: Exchange, model: Model): boolean {
  const text = requestText(exchange);
  if (model.refresh.some((token) => text.includes(token))) return true;
  if (/"email"/.test(text) && /"password"/.test(text)) return true;
  return (
    model.access.some((token) => text.includes(token)) &&
    [...model.passwords.values()].some((set) => [...set].some((p) => text.includes(p)))
  );
}

/** Learns the credentials a granted response handed out, so later requests can use them. */
function learn(exchange: Exchange, status: number, headers: [string, string][], bodyText: string, model: Model): void {
  let json: { accessToken?: unknown; user?: { email?: unknown } };
  try {
    json = JSON.parse(bodyText);
  } catch {
    return;
  }
  if (typeof json?.accessToken !== "string" || typeof json.user?.email !== "string") return;
  const email = json.user.email;
  const refresh = headerValues(headers, "set-cookie")
    .map((c) => /^__Host-hush_rt=([^;]+)/.exec(c)?.[1])
    .find((v) => v);
  recordTokens(model, json.accessToken, email, refresh);
  const path = routedPath(exchange.target);
  model.granted.set(path, (model.granted.get(path) ?? 0) + 1);
  const body = jsonObjectOf(exchange);
  if (path === PATHS.signup && status === 201 && typeof body?.password === "string") recordAccount(model, email, body.password);
  if (path === PATHS.password && typeof body?.newPassword === "string") recordAccount(model, email, body.newPassword);
}

// ————— raw-socket framing mutations —————

type Framing =
  | { kind: "none" }
  | { kind: "content-length"; value: string }
  | { kind: "short-body"; by: number }
  | { kind: "long-body"; by: number }
  | { kind: "chunked-and-length" }
  | { kind: "bad-chunks"; text: string }
  | { kind: "control-byte"; line: number; byte: number }
  | { kind: "bare-lf" }
  | { kind: "no-host" }
  | { kind: "two-hosts" }
  | { kind: "version"; version: string }
  | { kind: "obs-fold" }
  | { kind: "space-before-colon" }
  | { kind: "raw-target"; text: string }
  | { kind: "truncate"; keep: number }
  | { kind: "pipeline" };

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "none" as const }) },
  // Requests the server must wait on (then abandoned) cost a client-side timeout each.
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.record({ kind: fc.constant("long-body" as const), by: fc.integer({ min: 1, max: 40 }) }),
      fc.record({
        kind: fc.constant("bad-chunks" as const),
        text: fc.constantFrom(
          "zz\r\nabc\r\n0\r\n\r\n",
          "5\r\nab\r\n0\r\n\r\n",
          "-1\r\n",
          "ffffffffffffffff\r\na\r\n",
          "3;ext=\x01\r\nabc\r\n0\r\n\r\n",
        ),
      }),
      fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat() }),
    ),
  },
  fc.record({
    kind: fc.constant("content-length" as const),
    value: fc.constantFrom("-1", "abc", "1, 2", "0x10", " 5", "99999999999999999999", "1e3", "+3"),
  }),
  fc.record({ kind: fc.constant("short-body" as const), by: fc.integer({ min: 1, max: 40 }) }),
  fc.constant({ kind: "chunked-and-length" as const }),
  fc.record({
    kind: fc.constant("control-byte" as const),
    line: fc.nat(),
    byte: fc.constantFrom(0x00, 0x01, 0x0b, 0x0c, 0x0d, 0x7f, 0x1b),
  }),
  fc.constant({ kind: "bare-lf" as const }),
  fc.constant({ kind: "no-host" as const }),
  fc.constant({ kind: "two-hosts" as const }),
  fc.record({
    kind: fc.constant("version" as const),
    version: fc.constantFrom("HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1x", "HTTPS/1.1", ""),
  }),
  fc.constant({ kind: "obs-fold" as const }),
  fc.constant({ kind: "space-before-colon" as const }),
  fc.record({
    kind: fc.constant("raw-target" as const),
    text: fc.constantFrom(
      "/auth/log in",
      "/auth/\xff\xfe",
      "*",
      "http://evil.example/auth/login",
      "auth/login",
      "/auth/login#x",
      "//",
      "/%",
    ),
  }),
  fc.constant({ kind: "pipeline" as const }),
);

/** Bytes of `exchange` with its framing spoiled; `complete` is false when the server must wait for more. */
function frame(exchange: Exchange, framing: Framing, host: string): { bytes: Buffer; complete: boolean } {
  const bytes = serialize(exchange, host);
  const split = bytes.indexOf("\r\n\r\n");
  const head = bytes.subarray(0, split).toString("latin1");
  const body = bytes.subarray(split + 4);
  const join = (h: string, b: Uint8Array = body) => Buffer.concat([Buffer.from(`${h}\r\n\r\n`, "latin1"), b]);
  const withoutLength = head.replace(/\r\nContent-Length: \d+/i, "");
  switch (framing.kind) {
    case "none":
      return { bytes, complete: true };
    case "content-length": {
      // A value HTTP accepts (` 5`: optional white space around digits) declares a length the
      // server must wait for when fewer bytes follow; the others are refused at once.
      const declared = /^\s*\d+\s*$/.test(framing.value) ? Number(framing.value) : undefined;
      return {
        bytes: join(`${withoutLength}\r\nContent-Length: ${framing.value}`),
        complete: declared === undefined || body.length >= declared,
      };
    }
    case "short-body":
      return { bytes: join(`${withoutLength}\r\nContent-Length: ${Math.max(0, body.length - framing.by)}`), complete: true };
    case "long-body":
      return { bytes: join(`${withoutLength}\r\nContent-Length: ${body.length + framing.by}`), complete: false };
    case "chunked-and-length":
      return {
        bytes: join(
          `${withoutLength}\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked`,
          Buffer.from(`${body.length.toString(16)}\r\n${latin1(body)}\r\n0\r\n\r\n`, "latin1"),
        ),
        complete: true,
      };
    case "bad-chunks":
      // A chunk that announces more bytes than follow leaves the server waiting, as it should.
      return { bytes: join(`${withoutLength}\r\nTransfer-Encoding: chunked`, Buffer.from(framing.text, "latin1")), complete: false };
    case "control-byte": {
      const lines = head.split("\r\n");
      const at = 1 + (framing.line % Math.max(1, lines.length - 1));
      lines[at] = `${lines[at]}${String.fromCharCode(framing.byte)}x`;
      return { bytes: join(lines.join("\r\n")), complete: true };
    }
    case "bare-lf":
      return { bytes: Buffer.concat([Buffer.from(`${head.replace(/\r\n/g, "\n")}\n\n`, "latin1"), body]), complete: true };
    case "no-host":
      return { bytes: join(head.replace(/\r\nHost: [^\r]*/, "")), complete: true };
    case "two-hosts":
      return { bytes: join(`${head}\r\nHost: evil.example`), complete: true };
    case "version":
      return { bytes: join(head.replace(/ HTTP\/1\.1\r\n/, ` ${framing.version}\r\n`)), complete: true };
    case "obs-fold":
      return { bytes: join(head.replace(/\r\nConnection: close/, "\r\nX-Folded: a\r\n b\r\nConnection: close")), complete: true };
    case "space-before-colon":
      return {
        bytes: join(head.replace(/\r\nX-Hush-Csrf:/i, "\r\nX-Hush-Csrf :").replace(/\r\nConnection:/, "\r\nConnection :")),
        complete: true,
      };
    case "raw-target":
      return { bytes: join(head.replace(/^(\S+) \S+/, `$1 ${framing.text}`)), complete: true };
    case "truncate":
      return { bytes: bytes.subarray(0, framing.keep % Math.max(1, bytes.length)), complete: false };
    case "pipeline": {
      const keepAlive = Buffer.from(latin1(bytes).replace("Connection: close\r\n", ""), "latin1");
      return {
        bytes: Buffer.concat([keepAlive, Buffer.from(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)]),
        complete: true,
      };
    }
  }
}

/** Splits what a raw socket received into responses (Content-Length or chunked bodies). */
function parseResponses(text: string, methods: readonly string[]): Checked[] {
  const responses: Checked[] = [];
  let rest = text;
  while (rest.startsWith("HTTP/")) {
    const method = methods[responses.length] ?? "GET";
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const [statusLine = "", ...lines] = rest.slice(0, end).split("\r\n");
    const status = Number(statusLine.split(" ")[1]);
    const headers = lines.map((line): [string, string] => [
      line.slice(0, line.indexOf(":")).toLowerCase(),
      line.slice(line.indexOf(":") + 1).trim(),
    ]);
    rest = rest.slice(end + 4);
    let body = "";
    const length = headerValues(headers, "content-length")[0];
    if (method === "HEAD") {
      // A HEAD response has no body, whatever its headers announce.
    } else if (length !== undefined) {
      body = rest.slice(0, Number(length));
      rest = rest.slice(Number(length));
    } else if (/chunked/i.test(headerValues(headers, "transfer-encoding")[0] ?? "")) {
      for (;;) {
        const lineEnd = rest.indexOf("\r\n");
        const size = Number.parseInt(rest.slice(0, lineEnd), 16);
        rest = rest.slice(lineEnd + 2);
        if (!(size > 0)) {
          rest = rest.slice(rest.indexOf("\r\n") + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else if (status >= 200 && status !== 204 && status !== 304) {
      body = rest;
      rest = "";
    }
    responses.push({ status, headers, bodyText: Buffer.from(body, "latin1").toString("utf8") });
  }
  return responses;
}

const isUnhandled = (line: string) => /"level":(50|60)/.test(line);

/**
 * A 500 the client never saw (it had gone) still shows as an `unhandled error` log line: fail on
 * any that appeared since `mark`, waiting `graceMs` for the server to notice an abandoned request.
 */
async function expectNoUnhandledSince(t: TestServer, mark: number, graceMs: number, exchange: Exchange, note = ""): Promise<void> {
  for (let waited = 0; waited < graceMs && !t.logs.slice(mark).some(isUnhandled); waited += 10) await new Promise((r) => setTimeout(r, 10));
  const lines = t.logs.slice(mark).filter(isUnhandled);
  if (lines.length)
    throw new Error(`the server logged an unhandled error (a 500)${note}\nrequest:\n  ${show(exchange)}\nlog: ${lines.join("")}`);
}

// ————— the suites —————

for (const database of TEST_DATABASES)
  for (const rateLimited of [false, true])
    describe(`HTTP fuzzing [${database}${rateLimited ? ", tight rate limits" : ""}]`, () => {
      let t: TestServer;
      const model: Model = {
        accounts: new Map(),
        passwords: new Map(),
        access: [],
        accessOwner: new Map(),
        refresh: [],
        jwksKeys: [],
        fresh: 0,
        granted: new Map(),
      };

      beforeAll(async () => {
        // Without limits, requests built from real credentials really succeed, so the token
        // oracle is exercised both ways. With tight limits, the 429 paths are fuzzed too.
        const limit = { points: 3, durationSeconds: 900 };
        t = await createTestServer({
          database,
          rateLimits: rateLimited
            ? {
                loginFailuresPerAccount: limit,
                loginFailuresPerDevice: limit,
                loginsPerIp: { points: 6, durationSeconds: 900 },
                signupsPerIp: { points: 6, durationSeconds: 900 },
                refreshesPerSession: limit,
                failedRefreshesPerIp: { points: 6, durationSeconds: 900 },
              }
            : false,
        });
        for (const password of POOL) {
          const user = await signUp(t, undefined, password);
          recordAccount(model, user.email, password);
          recordTokens(model, user.accessToken, user.email, user.cookie.slice(user.cookie.indexOf("=") + 1));
        }
        const jwks = (await (await fetch(`${t.url}${PATHS.jwks}`)).json()) as { keys: { x?: string; n?: string }[] };
        model.jwksKeys = jwks.keys.map((k) => new Uint8Array(Buffer.from(k.x ?? k.n ?? "", "base64url")));
      }, 60_000);
      afterAll(() => t?.close());

      it("answers every fetch / node:http request without a 5xx, with contract errors, and no undue token", async () => {
        await fc.assert(
          fc.asyncProperty(requestMix(t.server.routes), async (spec) => {
            const mark = t.logs.length;
            const { exchange, transport, chunkSizes } = resolve(spec, model, t);
            const outcome: Outcome =
              transport === "fetch"
                ? await sendWithFetch(t.url, exchange, RESPONSE_WAIT_MS)
                : await sendWithHttp(t.url, exchange, RESPONSE_WAIT_MS, transport === "http-chunked" ? chunkSizes : undefined);
            const headerBytes = exchange.target.length + exchange.headers.reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
            const tooBig = headerBytes > NODE_HEADER_LIMIT - 512;
            if (outcome.kind === "refused") return; // the client library would not send it: nothing to check
            if (outcome.kind === "failure") {
              // node:http drops a connection whose headers exceed its limit; anything else is a crash or reset.
              if (tooBig) return;
              throw new Error(`no response: ${outcome.error}\nrequest:\n  ${show(exchange)}`);
            }
            const bare = new Set<number>();
            if (tooBig) bare.add(431);
            if (!NODE_METHODS.has(exchange.method) || !isUriTarget(exchange.target)) bare.add(400);
            const bodyText = new TextDecoder().decode(outcome.body);
            check(exchange, { status: outcome.status, headers: outcome.headers, bodyText }, model, t.origin, bare, true);
            learn(exchange, outcome.status, outcome.headers, bodyText, model);
            await expectNoUnhandledSince(t, mark, 0, exchange);
          }),
          settings(rateLimited ? 150 : 400, 25_000),
        );
        // The oracle is not vacuous: requests built from real credentials did get tokens.
        if (!rateLimited)
          expect(
            [...model.granted.values()].reduce((a, b) => a + b, 0),
            JSON.stringify([...model.granted]),
          ).toBeGreaterThan(0);
      }, 120_000);

      it("answers raw, mis-framed HTTP on a socket without a 5xx or an undue token", async () => {
        const host = new URL(t.url).host;
        await fc.assert(
          fc.asyncProperty(requestMix(t.server.routes), framingArb, async (spec, framing) => {
            const mark = t.logs.length;
            const { exchange } = resolve(spec, model, t);
            exchange.method = exchange.method.toUpperCase();
            const { bytes, complete } = frame(exchange, framing, host);
            // A request the server must wait on is abandoned quickly: only the server's survival is checked.
            const raw = await sendRaw(t.url, bytes, complete ? RESPONSE_WAIT_MS : 100);
            const responses = parseResponses(raw.text, framing.kind === "pipeline" ? [exchange.method, "GET"] : [exchange.method]);
            const wellFormed =
              framing.kind === "none" && isUriTarget(exchange.target) && bytes.indexOf("\r\n\r\n") <= NODE_HEADER_LIMIT - 512;
            if (wellFormed && (responses.length === 0 || raw.error)) {
              throw new Error(`no response (${raw.error ?? (raw.closed ? "closed" : "timed out")})\nrequest:\n  ${show(exchange)}`);
            }
            if (complete && !raw.closed)
              throw new Error(`the server neither answered nor closed\nrequest:\n  ${show(exchange)}\nframing: ${JSON.stringify(framing)}`);
            for (const response of responses) {
              check(exchange, response, model, t.origin, wellFormed ? new Set() : new Set([400, 431]), wellFormed);
              learn(exchange, response.status, response.headers, response.bodyText, model);
            }
            await expectNoUnhandledSince(t, mark, complete ? 0 : 50, exchange, `, framing ${JSON.stringify(framing)}`);
          }),
          settings(rateLimited ? 100 : 250, 15_000),
        );
      }, 120_000);

      // Under tight limits the flow itself is rate-limited by now, as it should be: health only.
      it(rateLimited ? "stays up: /health answers" : "stays up: /health answers and signup → refresh → me still works", async () => {
        const health = await fetch(`${t.url}${PATHS.health}`);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: "ok" });
        if (!rateLimited) {
          const user = await signUp(t);
          const { response, cookie } = await refreshWith(t, user.cookie);
          expect(response.status).toBe(200);
          expect(cookie).toBeDefined();
          const { accessToken } = (await response.json()) as { accessToken: string };
          const me = await fetch(`${t.url}${PATHS.me}`, { headers: { authorization: `Bearer ${accessToken}` } });
          expect(me.status).toBe(200);
          expect(((await me.json()) as { user: { email: string } }).user.email).toBe(user.email);
        }
      });

      it("logged no unhandled error during the whole run", () => {
        const errors = t.logs.filter(isUnhandled);
        expect(errors.length, `${errors.length} unhandled errors, the first:\n${errors.slice(0, 1).join("")}`).toBe(0);
      });
    });
