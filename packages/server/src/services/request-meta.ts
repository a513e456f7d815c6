import type { HeaderReader } from "../http/header-reader.js";
import { clientKeyOf } from "../security/client-key.js";

/** What the server knows of the client making a request, for sessions, limits and events. */
export interface RequestMeta {
  /** The client's address, as logged and shown in session lists. */
  ip: string;
  /** What per-client limits count under: the IPv4 address, or the IPv6 /64. */
  clientKey: string;
  userAgent: string | null;
}

/**
 * The client's address and user agent, from the one place that knows about `trustProxy`:
 * behind a trusted proxy the client is the last `X-Forwarded-For` hop, otherwise the peer.
 */
export function requestMetaOf(headers: HeaderReader, remoteAddress: string | undefined, trustProxy: boolean): RequestMeta {
  let ip = remoteAddress;
  if (trustProxy) {
    const forwarded = headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) ip = forwarded;
  }
  const address = ip ?? "unknown";
  return { ip: address, clientKey: clientKeyOf(address), userAgent: headers.get("user-agent") };
}
