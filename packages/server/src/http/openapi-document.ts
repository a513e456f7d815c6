import { z } from "zod";
import type { AnyEndpoint, EndpointAuth } from "./endpoint.js";
import { MAX_BODY_BYTES } from "./json-body.js";
import { errorBodySchema } from "./schemas.js";

const ERROR_RESPONSES: Record<EndpointAuth, number[]> = {
  none: [503],
  cookie: [400, 401, 403, 413, 415, 429, 503],
  bearer: [401, 503],
  "bearer-recent": [401, 403, 503],
};

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  return z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" });
}

/**
 * The OpenAPI 3.1 document of exactly the endpoints the server mounts, from their declarations
 * and zod schemas: the router and the document cannot disagree.
 */
export function buildOpenApiDocument(issuer: string, endpoints: readonly AnyEndpoint[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of endpoints) {
    const path = op.path.replace(/:(\w+)/g, "{$1}");
    const bearer = op.auth === "bearer" || op.auth === "bearer-recent";
    const request = op.body;
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { [r.contentType ?? "application/json"]: { schema: jsonSchema(r.schema, "output") } } }
        : { description: r.description };
    }
    for (const status of [
      ...ERROR_RESPONSES[op.auth],
      ...(path.includes("{") ? [404] : []),
      ...(request && bearer ? [400, 413, 415] : []),
    ]) {
      responses[status] ??= {
        description: "Error (see docs/errors.md)",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    const operation: Record<string, unknown> = { operationId: op.operationId, summary: op.summary, responses };
    if (bearer) operation.security = [{ bearer: [] }];
    if (op.auth === "cookie" || op.csrf) {
      if (op.auth === "cookie") operation.security = [{ refreshCookie: [] }, {}];
      operation.parameters = [
        { name: "X-Hush-Csrf", in: "header", required: true, description: "Must be 1 (CSRF defence)", schema: { const: "1" } },
      ];
    }
    const pathParameters = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "");
    if (pathParameters.length > 0) {
      operation.parameters = pathParameters.map((name) => ({
        name,
        in: "path",
        required: true,
        schema:
          name === "id" && path.startsWith("/auth/sessions") ? { type: "string", pattern: "^[A-Za-z0-9_-]{22}$" } : { type: "string" },
      }));
    }
    if (request) {
      operation.requestBody = {
        required: true,
        description: `JSON, at most ${MAX_BODY_BYTES} bytes`,
        content: { "application/json": { schema: jsonSchema(request, "input") } },
      };
    }
    paths[path] = { ...paths[path], [op.method]: operation };
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
