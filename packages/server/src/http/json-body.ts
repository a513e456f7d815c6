import type { z } from "zod";
import { HushError } from "../errors.js";

/** Largest request body accepted, in bytes (docs/api.md, HTTP API). */
export const MAX_BODY_BYTES = 16 * 1024;

/** Reads at most `MAX_BODY_BYTES` of the body, aborting as soon as it is exceeded. */
async function readLimited(request: Request): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client went away mid-body (or sent broken chunked framing): its request, not a fault of ours.
      throw new HushError("invalid_request", "The request body could not be read.");
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): HushError {
  return new HushError("payload_too_large", `The request body must be at most ${MAX_BODY_BYTES} bytes.`);
}

/** True for `application/json`, with or without parameters such as `charset=utf-8`. */
function isJson(contentType: string | null): boolean {
  return contentType !== null && contentType.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/**
 * Parses a JSON request body against a schema. Form and text bodies are refused (415) — one
 * of the CSRF defences — and the result is typed only once the schema says so.
 */
export async function readJsonBody<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  if (!isJson(request.headers.get("content-type"))) {
    throw new HushError("unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
  }
  // Bodies are never decompressed: one claimed to be encoded is refused, not read as plain JSON.
  const encoding = request.headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    throw new HushError("unsupported_media_type", "Request bodies must not be content-encoded.");
  }
  const bytes = await readLimited(request);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new HushError("invalid_request", "The request body is not valid JSON.");
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "body";
    throw new HushError("invalid_request", `Invalid ${field}: ${issue?.message ?? "malformed"}.`);
  }
  return result.data;
}
