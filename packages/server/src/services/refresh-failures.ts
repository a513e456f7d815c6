import { HushError, isHushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { RateLimits } from "../security/rate-limits.js";
import type { RequestMeta } from "./request-meta.js";

/**
 * Books a refused refresh: a `refresh_failed` event (reuse has its own) and one count against
 * the client's failed-refresh limit. Past that limit the client gets `429` instead of `401`.
 * Only failures are counted, so a good refresh is never limited per IP (many users share a NAT).
 * Returns what to throw.
 */
export async function refusedRefresh(
  limits: RateLimits,
  events: SecurityEvents,
  meta: RequestMeta,
  error: unknown,
  sessionId: string | undefined,
): Promise<unknown> {
  if (!isHushError(error) || error.status !== 401) return error;
  if (error.code !== "refresh_token_reused") {
    const reason = error.code === "session_revoked" ? "session_revoked" : "invalid_refresh_token";
    events.emit({ type: "refresh_failed", reason, sessionId, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
  }
  try {
    await limits.consume("failedRefreshesPerIp", meta.clientKey);
  } catch (limited) {
    if (limited instanceof HushError) return limited;
    throw limited;
  }
  return error;
}
