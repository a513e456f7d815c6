import { afterEach, describe, expect, it, vi } from "vitest";
import { AUTH, userOf } from "../test/fake-browser.js";
import { createAuthApi } from "./auth-api.js";
import { isAuthError } from "./auth-error.js";

const BASE = `${AUTH}/auth`;

/** A fake `fetch` answering every request with `answer`, and the requests it saw. */
function fakeFetch(answer: () => Response | Promise<Response>) {
  const seen: Request[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return answer();
    }),
  );
  return seen;
}

describe("createAuthApi", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("POSTs with the CSRF header and the cookie, adding a JSON body and a bearer only when given", async () => {
    const seen = fakeFetch(() => new Response(null, { status: 204 }));
    const api = createAuthApi(BASE);
    await api.send("/refresh");
    await api.send("/login", { email: "a@example.com" }, "tok");
    const [bare, full] = seen;
    expect([bare?.method, bare?.url, bare?.credentials, bare?.headers.get("x-hush-csrf")]).toEqual([
      "POST",
      `${BASE}/refresh`,
      "include",
      "1",
    ]);
    expect(bare?.headers.get("content-type")).toBeNull();
    expect(bare?.headers.get("authorization")).toBeNull();
    expect(full?.headers.get("content-type")).toBe("application/json");
    expect(full?.headers.get("authorization")).toBe("Bearer tok");
    expect(await full?.json()).toEqual({ email: "a@example.com" });
  });

  it("send resolves with any status; post rejects an error status with its AuthError", async () => {
    fakeFetch(() => Response.json({ error: "rate_limited", message: "Slow down." }, { status: 429 }));
    const api = createAuthApi(BASE);
    expect((await api.send("/login")).status).toBe(429);
    const error = await api.post("/login").catch((e: unknown) => e);
    expect(isAuthError(error) && [error.code, error.status]).toEqual(["rate_limited", 429]);
  });

  it("post lets a network failure through as it is", async () => {
    fakeFetch(() => Promise.reject(new TypeError("Failed to fetch")));
    await expect(createAuthApi(BASE).post("/logout")).rejects.toThrow(TypeError);
  });

  it("me returns the user of a well-formed answer, sent with the bearer", async () => {
    const seen = fakeFetch(() => Response.json({ user: userOf("u1") }));
    expect(await createAuthApi(BASE).me("tok")).toEqual(userOf("u1"));
    expect([seen[0]?.method, seen[0]?.url, seen[0]?.headers.get("authorization")]).toEqual(["GET", `${BASE}/me`, "Bearer tok"]);
  });

  it("me returns undefined for an error, a malformed user, a body that is not JSON, or no answer", async () => {
    for (const answer of [
      () => Response.json({ error: "invalid_token" }, { status: 401 }),
      () => Response.json({ user: { id: "u1" } }),
      () => new Response("not json"),
      () => Promise.reject(new TypeError("Failed to fetch")),
    ]) {
      fakeFetch(answer);
      expect(await createAuthApi(BASE).me("tok")).toBeUndefined();
    }
  });
});
