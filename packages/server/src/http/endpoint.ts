import type { z } from "zod";
import type { Authenticated } from "../routes/guards.js";
import type { LimitName } from "../security/rate-limits.js";
import type { ServerContext } from "../server-context.js";
import type { RequestMeta } from "../services/request-meta.js";

/**
 * How an endpoint authenticates, which decides the checks its mount applies:
 * `none`; `cookie` — a cookie endpoint, CSRF- and Origin-checked (docs/api.md, CSRF);
 * `bearer` — a valid access token of a live session; `bearer-recent` — the same, signed in
 * within `reauthWindowSeconds` (else `403 reauthentication_required`).
 */
export type EndpointAuth = "none" | "cookie" | "bearer" | "bearer-recent";

/** One documented response of an endpoint (errors are added from its `auth` and `body`). */
export interface EndpointResponse {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

/** What a handler receives: the request, its parsed body, who is calling, and from where. */
export interface EndpointInput<Body, Auth extends EndpointAuth> {
  request: Request;
  body: Body;
  meta: RequestMeta;
  /** The verified access token and its user, for `bearer` endpoints. */
  auth: Auth extends "bearer" | "bearer-recent" ? Authenticated : undefined;
  /** Path parameters (`:id`). */
  params: Record<string, string>;
}

/**
 * An endpoint, declared once: routing, CSRF and bearer checks, body parsing and limits, rate
 * limits and the OpenAPI document are all derived from these fields (see `mountEndpoints`).
 */
export interface Endpoint<Body = undefined, Auth extends EndpointAuth = EndpointAuth> {
  method: "get" | "post" | "delete";
  /** Hono style (`/auth/sessions/:id`); the document writes `{id}`. */
  path: string;
  operationId: string;
  summary: string;
  auth: Auth;
  /** A bearer endpoint that also changes the cookie (`DELETE /auth/account`): CSRF- and Origin-checked too. */
  csrf?: boolean;
  /** The JSON body's schema; without one the body is not read. */
  body?: z.ZodType<Body>;
  /** Per-client limits counted (after the body parsed) before the handler runs. */
  limits?: readonly LimitName[];
  /** Success responses by status. */
  responses: Record<number, EndpointResponse>;
  handler(input: EndpointInput<Body, Auth>, ctx: ServerContext): Response | Promise<Response>;
}

/** An endpoint of any body and auth, as lists hold them. */
// biome-ignore lint/suspicious/noExplicitAny: a list of endpoints is heterogeneous in its body types.
export type AnyEndpoint = Endpoint<any, EndpointAuth>;

/** Declares an endpoint, inferring the handler's body and auth types from the declaration. */
export function defineEndpoint<Body = undefined, Auth extends EndpointAuth = EndpointAuth>(endpoint: Endpoint<Body, Auth>): AnyEndpoint {
  return endpoint as AnyEndpoint;
}
