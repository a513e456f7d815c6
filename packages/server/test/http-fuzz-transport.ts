import { request as httpRequest } from "node:http";
import { connect } from "node:net";

/** One concrete HTTP request, exactly as the fuzzer sends it. Header names may repeat. */
export interface Exchange {
  method: string;
  /** The request target as written on the request line: path and query, not normalised. */
  target: string;
  headers: [name: string, value: string][];
  body?: Uint8Array;
}

/** What came back: a response, or a transport failure (reset, refused, hang). */
export type Outcome =
  | { kind: "response"; status: number; headers: [name: string, value: string][]; body: Uint8Array }
  | { kind: "failure"; error: string }
  /** The client library itself refused to send the request (an invalid header, say): nothing reached the server. */
  | { kind: "refused"; error: string };

/** All `name` headers of a response, by lower-case name. */
export function headerValues(headers: readonly [string, string][], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

function describeError(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const code = (error as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
  return `${String(error)}${cause ? ` (cause: ${String(cause)})` : ""}${code ? ` [${String(code)}]` : ""}`;
}

/** Sends with undici's `fetch` (Node's global). Bodies are bytes, so fetch adds no `Content-Type` of its own. */
export async function sendWithFetch(base: string, exchange: Exchange, timeoutMs: number): Promise<Outcome> {
  let request: Request;
  try {
    const headers = new Headers();
    for (const [name, value] of exchange.headers) headers.append(name, value);
    request = new Request(new URL(`${base}${exchange.target}`), {
      method: exchange.method,
      headers,
      body: exchange.body as BodyInit | undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { kind: "refused", error: describeError(error) };
  }
  try {
    const response = await fetch(request);
    const body = new Uint8Array(await response.arrayBuffer());
    return { kind: "response", status: response.status, headers: [...response.headers], body };
  } catch (error) {
    return { kind: "failure", error: describeError(error) };
  }
}

/**
 * Sends with `node:http`'s `request`: the path is not normalised, header values may hold
 * latin1 bytes, names may repeat, and `chunkSizes` sends the body with chunked encoding.
 */
export function sendWithHttp(base: string, exchange: Exchange, timeoutMs: number, chunkSizes?: readonly number[]): Promise<Outcome> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of exchange.headers) {
      const key = name.toLowerCase();
      const prior = headers[key];
      headers[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
    const body = exchange.body ?? new Uint8Array();
    // node:http chunks bodies by default only for some methods: ask for it, or give the length.
    if (chunkSizes) headers["transfer-encoding"] = "chunked";
    else if (body.byteLength > 0 || exchange.method !== "GET") headers["content-length"] = String(body.byteLength);
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    let client: ReturnType<typeof httpRequest>;
    try {
      client = httpRequest({ host: hostname, port: Number(port), method: exchange.method, path: exchange.target, headers, agent: false });
    } catch (error) {
      resolve({ kind: "refused", error: describeError(error) });
      return;
    }
    const timer = setTimeout(() => {
      client.destroy();
      settle({ kind: "failure", error: `no response within ${timeoutMs} ms` });
    }, timeoutMs);
    client.on("error", (error) => settle({ kind: "failure", error: describeError(error) }));
    client.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", (error) => settle({ kind: "failure", error: describeError(error) }));
      response.on("end", () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < response.rawHeaders.length; i += 2)
          pairs.push([response.rawHeaders[i]!.toLowerCase(), response.rawHeaders[i + 1]!]);
        settle({ kind: "response", status: response.statusCode ?? 0, headers: pairs, body: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    if (chunkSizes) {
      let offset = 0;
      for (const size of chunkSizes) {
        if (offset >= body.byteLength) break;
        client.write(body.subarray(offset, offset + Math.max(1, size)));
        offset += Math.max(1, size);
      }
      if (offset < body.byteLength) client.write(body.subarray(offset));
      client.end();
    } else {
      client.end(body);
    }
  });
}

/** The bytes of an exchange on the wire, HTTP/1.1 with `Content-Length` unless a header says otherwise. */
export function serialize(exchange: Exchange, host: string): Buffer {
  const lines = [`${exchange.method} ${exchange.target} HTTP/1.1`, `Host: ${host}`, "Connection: close"];
  const body = exchange.body ?? new Uint8Array();
  for (const [name, value] of exchange.headers) lines.push(`${name}: ${value}`);
  if (body.byteLength > 0) lines.push(`Content-Length: ${body.byteLength}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

/** What a raw socket received before the server closed it, or before `waitMs` ran out. */
export interface RawOutcome {
  /** Everything received, as latin1 text (one char per byte). */
  text: string;
  /** The server closed the connection (as `Connection: close` asks) rather than the client giving up. */
  closed: boolean;
  /** A socket error other than the client's own teardown. */
  error?: string;
}

/** Writes `bytes` on a fresh TCP connection and collects what comes back; never half-closes first. */
export function sendRaw(base: string, bytes: Buffer, waitMs: number): Promise<RawOutcome> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = connect(Number(port), hostname, () =>
      socket.write(bytes, (e) => {
        if (e) error ??= describeError(e);
      }),
    );
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed, error });
    };
    // A client that half-closes loses its response on node:http, so the socket stays open
    // for writing until the server has answered and closed, or until the wait runs out.
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (e) => {
      error ??= describeError(e);
    });
    socket.on("close", () => finish(true));
  });
}
