import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { API, APP, AUTH } from "../test/fake-browser.js";
import { LOCK_WAIT_MS, PEER_WAIT_MS, resolveOptions } from "./client-options.js";

describe("resolveOptions", () => {
  beforeEach(() => {
    vi.stubGlobal("location", new URL(`${APP}/page`));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("fills in the defaults and drops a trailing slash of the base", () => {
    expect(resolveOptions({ baseUrl: `${AUTH}/auth/` })).toMatchObject({
      base: `${AUTH}/auth`,
      autoRefresh: true,
      peerWaitMs: PEER_WAIT_MS,
      lockWaitMs: LOCK_WAIT_MS,
    });
    expect(resolveOptions({ baseUrl: `${AUTH}/auth`, autoRefresh: false, peerWaitMs: 0, lockWaitMs: 10 })).toMatchObject({
      autoRefresh: false,
      peerWaitMs: 0,
      lockWaitMs: 10,
    });
  });

  it("adopts X-Access-Token from the auth server and assistedRefreshOrigins, and sends the bearer to those, the page and apiOrigins", () => {
    const resolved = resolveOptions({
      baseUrl: `${AUTH}/auth`,
      apiOrigins: [`${API}/v1`],
      assistedRefreshOrigins: ["https://same-process.example"],
    });
    expect([...resolved.assistedOrigins]).toEqual([AUTH, "https://same-process.example"]);
    expect([...resolved.trustedOrigins].sort()).toEqual([API, APP, AUTH, "https://same-process.example"].sort());
  });

  it("resolves a relative base against the page", () => {
    expect([...resolveOptions({ baseUrl: "/auth" }).assistedOrigins]).toEqual([APP]);
  });

  it("names the option that holds something other than a URL", () => {
    expect(() => resolveOptions({ baseUrl: "/auth", apiOrigins: ["api.example"] })).toThrow(
      new TypeError('options.apiOrigins: "api.example" is not an absolute URL'),
    );
    expect(() => resolveOptions({ baseUrl: "/auth", assistedRefreshOrigins: ["/api"] })).toThrow(/options\.assistedRefreshOrigins/);
  });
});
