import { PATHS } from "@hush/protocol";
import { z } from "zod";
import { MAX_BODY_BYTES } from "../http/json-body.js";
import {
  credentialsSchema,
  errorBodySchema,
  healthResponseSchema,
  jwksResponseSchema,
  meResponseSchema,
  passwordChangeSchema,
  sessionsResponseSchema,
  tokenResponseSchema,
} from "../http/schemas.js";

type Auth = "none" | "cookie" | "bearer";

/** One operation of the HTTP API, described once: the router's table and the OpenAPI source. */
export interface ApiOperation {
  method: "get" | "post" | "delete";
  /** OpenAPI path (`{id}` style). */
  path: string;
  operationId: string;
  summary: string;
  auth: Auth;
  request?: z.ZodType;
  /** Routed only when metrics are on. */
  onlyWithMetrics?: boolean;
  /** Status → description and body schema (JSON unless `contentType` says otherwise). */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

const tokenSet = { description: "Token response; sets the refresh cookie", schema: tokenResponseSchema };
const noContent = { description: "Done" };

/** Every operation the server routes. A test keeps this list and the router in step. */
export const API_OPERATIONS: readonly ApiOperation[] = [
  {
    method: "post",
    path: PATHS.signup,
    operationId: "signup",
    summary: "Create an account and sign in",
    auth: "cookie",
    request: credentialsSchema,
    responses: { 201: tokenSet },
  },
  {
    method: "post",
    path: PATHS.login,
    operationId: "login",
    summary: "Sign in with email and password",
    auth: "cookie",
    request: credentialsSchema,
    responses: { 200: tokenSet },
  },
  {
    method: "post",
    path: PATHS.refresh,
    operationId: "refresh",
    summary: "Silent refresh: a new access token from the refresh cookie, which rotates",
    auth: "cookie",
    responses: { 200: tokenSet },
  },
  {
    method: "post",
    path: PATHS.logout,
    operationId: "logout",
    summary: "End this device's session and clear the cookie",
    auth: "cookie",
    responses: { 204: noContent },
  },
  {
    method: "post",
    path: PATHS.logoutAll,
    operationId: "logoutAll",
    summary: "End every session of the user",
    auth: "bearer",
    responses: { 204: noContent },
  },
  {
    method: "get",
    path: PATHS.me,
    operationId: "me",
    summary: "The signed-in user",
    auth: "bearer",
    responses: { 200: { description: "The user", schema: meResponseSchema } },
  },
  {
    method: "get",
    path: PATHS.sessions,
    operationId: "listSessions",
    summary: "The user's live sessions",
    auth: "bearer",
    responses: { 200: { description: "Sessions", schema: sessionsResponseSchema } },
  },
  {
    method: "delete",
    path: `${PATHS.sessions}/{id}`,
    operationId: "deleteSession",
    summary: "End one of the user's own sessions",
    auth: "bearer",
    responses: { 204: noContent },
  },
  {
    method: "post",
    path: PATHS.password,
    operationId: "changePassword",
    summary: "Change the password; other sessions end",
    auth: "bearer",
    request: passwordChangeSchema,
    responses: { 200: tokenSet },
  },
  {
    method: "get",
    path: PATHS.jwks,
    operationId: "jwks",
    summary: "Public keys that verify access tokens",
    auth: "none",
    responses: { 200: { description: "JWK Set", schema: jwksResponseSchema } },
  },
  {
    method: "get",
    path: PATHS.revocations,
    operationId: "revocations",
    summary: "Signed list of recently revoked session ids (typ rl+jwt)",
    auth: "none",
    responses: {
      200: { description: "A compact JWT", schema: z.string(), contentType: "application/jwt" },
      304: { description: "Unchanged (If-None-Match)" },
    },
  },
  {
    method: "get",
    path: PATHS.health,
    operationId: "health",
    summary: "Liveness and database reachability",
    auth: "none",
    responses: { 200: { description: "Healthy", schema: healthResponseSchema } },
  },
  {
    method: "get",
    path: PATHS.openapi,
    operationId: "openapi",
    summary: "This document",
    auth: "none",
    responses: { 200: { description: "OpenAPI 3.1" } },
  },
];

const ERROR_RESPONSES: Record<Auth, number[]> = {
  none: [503],
  cookie: [400, 401, 403, 413, 415, 429, 503],
  bearer: [401, 503],
};

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  return z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" });
}

/** Builds the OpenAPI 3.1 document of the API from `API_OPERATIONS` and their zod schemas. */
export function buildOpenApiDocument(issuer: string, options: { metrics: boolean }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of API_OPERATIONS) {
    if (op.onlyWithMetrics && !options.metrics) continue;
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { [r.contentType ?? "application/json"]: { schema: jsonSchema(r.schema, "output") } } }
        : { description: r.description };
    }
    for (const status of [
      ...ERROR_RESPONSES[op.auth],
      ...(op.path.includes("{id}") ? [404] : []),
      ...(op.request && op.auth === "bearer" ? [400, 413, 415] : []),
    ]) {
      responses[status] ??= {
        description: "Error (see docs/errors.md)",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    const operation: Record<string, unknown> = { operationId: op.operationId, summary: op.summary, responses };
    if (op.auth === "bearer") operation.security = [{ bearer: [] }];
    if (op.auth === "cookie") {
      operation.security = [{ refreshCookie: [] }, {}];
      operation.parameters = [
        { name: "X-Hush-Csrf", in: "header", required: true, description: "Must be 1 (CSRF defence)", schema: { const: "1" } },
      ];
    }
    if (op.path.includes("{id}")) {
      operation.parameters = [{ name: "id", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{22}$" } }];
    }
    if (op.request) {
      operation.requestBody = {
        required: true,
        description: `JSON, at most ${MAX_BODY_BYTES} bytes`,
        content: { "application/json": { schema: jsonSchema(op.request, "input") } },
      };
    }
    paths[op.path] = { ...paths[op.path], [op.method]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Hush auth server",
      version: "0.1.0",
      description: "Sign-up, login, silent refresh with a rotating HttpOnly cookie, and sessions.",
    },
    servers: [{ url: issuer }],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorBodySchema, "output") },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        refreshCookie: {
          type: "apiKey",
          in: "cookie",
          name: "__Host-hush_rt",
          description: "Or hush_rt for a plain-http non-loopback issuer",
        },
      },
    },
  };
}
