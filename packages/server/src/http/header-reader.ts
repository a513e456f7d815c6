import type { IncomingHttpHeaders } from "node:http";

/** What the request checks read of headers: a `Headers`, or node's header object through `nodeHeaders`. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** node:http's parsed headers (lower-case names) as a `HeaderReader`, without building a `Headers`. */
export function nodeHeaders(headers: IncomingHttpHeaders): HeaderReader {
  return {
    get(name) {
      const value = headers[name];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(", ") : value;
    },
  };
}
