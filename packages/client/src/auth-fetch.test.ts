import { afterEach, describe, expect, it, vi } from "vitest";
import { API, APP, AUTH, respond } from "../test/fake-browser.js";
import { type AuthFetchDeps, createAuthFetch } from "./auth-fetch.js";
import type { AuthEvent } from "./events.js";

const invalidToken = { "www-authenticate": 'Bearer error="invalid_token"' };
/** What a `@hush/verify` guard with `amr: ["mfa"], acrValues: ["phrh", "phr"], maxAgeSeconds: 300` answers. */
const stepUpChallenge = {
  "www-authenticate":
    'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phrh phr", max_age=300',
};
const stepUpBody = { error: "insufficient_user_authentication", message: "Sign in again.", amr: ["mfa"] };

/**
 * An auth fetch over a fake network that answers each URL with `answer(url, bearer)`, a client
 * holding `held` (refreshed to `refreshed`), and what it sent and was offered.
 */
function setUp(answer: (url: string, bearer: string | null) => Response, { held = "t1", refreshed = "t2" as string | null } = {}) {
  const sent: { url: string; bearer: string | null }[] = [];
  const offered: string[] = [];
  const events: AuthEvent[] = [];
  let token = held;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const bearer = request.headers.get("authorization");
      sent.push({ url: request.url, bearer });
      return answer(request.url, bearer);
    }),
  );
  const deps: AuthFetchDeps = {
    trustedOrigins: new Set([APP, AUTH, API]),
    assistedOrigins: new Set([AUTH]),
    getAccessToken: async () => token,
    heldToken: () => token,
    refresh: vi.fn(async () => {
      if (refreshed) token = refreshed;
      return refreshed;
    }),
    adoptAssisted: (assisted) => void offered.push(assisted),
    emit: (event) => void events.push(event),
  };
  const replace = (next: string) => {
    token = next;
  };
  return { authFetch: createAuthFetch(deps), deps, sent, offered, events, replace };
}

describe("createAuthFetch", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("sends the bearer to trusted origins only, keeping the request's own headers", async () => {
    const { authFetch, sent, deps } = setUp((url) => respond(url, {}));
    await authFetch(`${API}/notes`, { headers: { "x-app": "1" } });
    await authFetch("https://third-party.example/pixel");
    expect(sent).toEqual([
      { url: `${API}/notes`, bearer: "Bearer t1" },
      { url: "https://third-party.example/pixel", bearer: null },
    ]);
    expect(deps.refresh).not.toHaveBeenCalled();
  });

  it("refreshes once and retries once after a 401 invalid_token", async () => {
    const { authFetch, sent, deps } = setUp((url, bearer) =>
      bearer === "Bearer t2" ? respond(url, { ok: true }) : respond(url, {}, { status: 401, headers: invalidToken }),
    );
    expect((await authFetch(`${API}/notes`)).status).toBe(200);
    expect(sent.map((s) => s.bearer)).toEqual(["Bearer t1", "Bearer t2"]);
    expect(deps.refresh).toHaveBeenCalledOnce();
  });

  it("hands back the 401 when the refresh brings no token, and never loops when the retry fails too", async () => {
    const always401 = (url: string) => respond(url, {}, { status: 401, headers: invalidToken });
    const noToken = setUp(always401, { refreshed: null });
    expect((await noToken.authFetch(`${API}/notes`)).status).toBe(401);
    expect(noToken.sent).toHaveLength(1);
    const stillRefused = setUp(always401);
    expect((await stillRefused.authFetch(`${API}/notes`)).status).toBe(401);
    expect(stillRefused.sent).toHaveLength(2);
  });

  it("hands a step-up challenge back as is, never refreshing, and emits what the server asked for", async () => {
    const { authFetch, deps, sent, events } = setUp((url) => respond(url, stepUpBody, { status: 401, headers: stepUpChallenge }));
    const response = await authFetch(`${API}/transfer?x=1`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    // The caller can still read the body.
    expect(await response.json()).toEqual(stepUpBody);
    expect(deps.refresh).not.toHaveBeenCalled();
    expect(sent).toHaveLength(1);
    expect(events).toEqual([
      { type: "step-up-required", url: `${API}/transfer?x=1`, amr: ["mfa"], acrValues: ["phrh", "phr"], maxAgeSeconds: 300 },
    ]);
  });

  it("reads max_age quoted or not, and leaves out what the server did not ask for", async () => {
    const cases: [Record<string, string>, unknown, Partial<AuthEvent>][] = [
      // RFC 9470 §3's own example, with a body that is not JSON.
      [
        {
          "www-authenticate":
            'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5"',
        },
        null,
        { maxAgeSeconds: 5 },
      ],
      [{ "www-authenticate": "Bearer error=insufficient_user_authentication, max_age=0" }, { amr: "mfa" }, { maxAgeSeconds: 0 }],
      [
        { "www-authenticate": 'Bearer error="insufficient_user_authentication", acr_values="urn:acr:2"' },
        { amr: ["mfa", 2] },
        { acrValues: ["urn:acr:2"] },
      ],
      [{ "www-authenticate": 'Bearer error="insufficient_user_authentication"' }, { amr: ["hwk", "mfa"] }, { amr: ["hwk", "mfa"] }],
    ];
    for (const [headers, body, expected] of cases) {
      const { authFetch, deps, events } = setUp((url) =>
        body === null ? respond(url, null, { status: 401, headers }) : respond(url, body, { status: 401, headers }),
      );
      expect((await authFetch(`${API}/notes`)).status).toBe(401);
      expect(deps.refresh).not.toHaveBeenCalled();
      expect(events).toEqual([{ type: "step-up-required", url: `${API}/notes`, ...expected }]);
    }
  });

  it("emits step-up for the retry after a refresh too, and refreshes no more", async () => {
    const { authFetch, deps, sent, events } = setUp((url, bearer) =>
      bearer === "Bearer t2"
        ? respond(url, stepUpBody, { status: 401, headers: stepUpChallenge })
        : respond(url, {}, { status: 401, headers: invalidToken }),
    );
    expect((await authFetch(`${API}/notes`)).status).toBe(401);
    expect(sent.map((s) => s.bearer)).toEqual(["Bearer t1", "Bearer t2"]);
    expect(deps.refresh).toHaveBeenCalledOnce();
    expect(events).toMatchObject([{ type: "step-up-required", amr: ["mfa"] }]);
  });

  it("emits no step-up for a challenge on any status but 401, nor for other errors", async () => {
    for (const [status, headers] of [
      [403, stepUpChallenge],
      [401, invalidToken],
      [401, { "www-authenticate": 'Bearer error="insufficient_scope", scope="insufficient_user_authentication"' }],
    ] as const) {
      const { authFetch, events } = setUp((url) => respond(url, stepUpBody, { status, headers }), { refreshed: null });
      await authFetch(`${API}/notes`);
      expect(events).toEqual([]);
    }
  });

  it("hands an application's own 401 or 403 back untouched, without a refresh", async () => {
    for (const [status, headers] of [
      [401, {}],
      [401, { "www-authenticate": 'Bearer error="insufficient_scope"' }],
      [403, invalidToken],
    ] as const) {
      const { authFetch, deps, sent } = setUp((url) => respond(url, {}, { status, headers }));
      expect((await authFetch(`${API}/notes`)).status).toBe(status);
      expect(deps.refresh).not.toHaveBeenCalled();
      expect(sent).toHaveLength(1);
    }
  });

  it("retries with a token that replaced the one sent meanwhile, without another refresh", async () => {
    const { authFetch, deps, sent, replace } = setUp((url, bearer) => {
      if (bearer === "Bearer t3") return respond(url, {});
      // Another caller refreshed while this request was out.
      replace("t3");
      return respond(url, {}, { status: 401, headers: invalidToken });
    });
    expect((await authFetch(`${API}/notes`)).status).toBe(200);
    expect(sent.map((s) => s.bearer)).toEqual(["Bearer t1", "Bearer t3"]);
    expect(deps.refresh).not.toHaveBeenCalled();
  });

  it("offers an X-Access-Token only when the final URL (after redirects) is on an assisted origin", async () => {
    const { authFetch, offered } = setUp((url) => {
      const finalUrl = url.endsWith("/hop") ? `${AUTH}/landing` : url;
      return respond(finalUrl, {}, { headers: { "x-access-token": `from ${finalUrl}` } });
    });
    await authFetch(`${AUTH}/app/data`);
    await authFetch(`${API}/notes`);
    await authFetch(`${API}/hop`);
    expect(offered).toEqual([`from ${AUTH}/app/data`, `from ${AUTH}/landing`]);
  });
});
