import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { serveCommand } from "../cli/serve.js";
import { parseRateLimit } from "../security/rate-limits.js";
import { parseDurationSeconds } from "./durations.js";
import { configFromEnv } from "./env-config.js";
import { ConfigError, resolveOptions } from "./options.js";
import { SETTINGS, settingsTable } from "./settings.js";

const README = new URL("../../../../docs/configuration.md", import.meta.url);
const ENV_CONFIG = new URL("./env-config.ts", import.meta.url);
const SECRET = "ab".repeat(32);

describe("the settings table", () => {
  it("is the configuration table of docs/configuration.md, word for word (regenerate with npm run docs:settings)", () => {
    const readme = readFileSync(README, "utf8");
    const start = readme.indexOf("<!-- settings:start -->");
    const end = readme.indexOf("<!-- settings:end -->");
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + "<!-- settings:start -->".length, end).trim()).toBe(settingsTable());
  });

  it("declares every variable the environment parser reads by name", () => {
    const named = new Set(readFileSync(ENV_CONFIG, "utf8").match(/\bHUSH_[A-Z0-9_]+\b/g));
    const declared = new Set(SETTINGS.map((s) => s.env));
    // A prefix the parser completes per provider (`HUSH_OAUTH_` + name) is declared as `HUSH_OAUTH_<NAME>_…`.
    const undeclared = [...named].filter((name) =>
      name.endsWith("_") ? !SETTINGS.some((s) => s.env.startsWith(`${name}<NAME>_`)) : !declared.has(name),
    );
    expect(undeclared).toEqual([]);
  });

  it("lists every variable in `hush serve --help`", () => {
    for (const setting of SETTINGS) expect(serveCommand.help).toContain(setting.env);
  });

  it("refuses a bad value of every typed setting with one ConfigError naming its variable", () => {
    for (const setting of SETTINGS.filter((s) => s.type.kind !== "special")) {
      const attempt = () => configFromEnv({ HUSH_SECRET: SECRET, HUSH_DATABASE_URL: "sqlite::memory:", [setting.env]: "bogus!" }, () => {});
      expect(attempt, setting.env).toThrow(ConfigError);
      expect(attempt, setting.env).toThrow(new RegExp(`^${setting.env}: `));
    }
  });

  it("gives createAuthServer the same defaults as the environment", () => {
    const fromEnv = resolveOptions(configFromEnv({ HUSH_SECRET: SECRET, HUSH_DATABASE_URL: "sqlite::memory:" }, () => {}).options);
    const programmatic = resolveOptions({ secret: SECRET, issuer: "http://127.0.0.1:4000" });
    for (const setting of SETTINGS) {
      const option = setting.option as keyof typeof programmatic;
      if (!(option in programmatic) || setting.type.kind === "special") continue;
      const expected =
        setting.type.kind === "duration"
          ? setting.default === "0"
            ? 0
            : parseDurationSeconds(setting.default)
          : setting.type.kind === "integer"
            ? Number(setting.default)
            : setting.type.kind === "on-off"
              ? setting.default === "on"
              : setting.default;
      const value = programmatic[option];
      if (setting.option === "rateLimits") expect(value).not.toBe(false);
      else expect(value, setting.option).toEqual(expected);
      expect(fromEnv[option], setting.option).toEqual(value);
    }
    for (const setting of SETTINGS.filter((s) => s.type.kind === "rate-limit")) {
      const name = setting.option.split(".")[1] as keyof Exclude<typeof programmatic.rateLimits, false>;
      const limits = programmatic.rateLimits;
      expect(limits === false ? undefined : limits[name], setting.env).toEqual(parseRateLimit(setting.default));
    }
  });

  it("applies the SameSite=None guard to createAuthServer options too", () => {
    expect(() => resolveOptions({ secret: SECRET, issuer: "https://auth.example.com", cookieSameSite: "None" })).toThrow(
      /options\.cookieSameSite: None/,
    );
    expect(
      resolveOptions({ secret: SECRET, issuer: "https://auth.example.com", cookieSameSite: "None", allowSameSiteNone: true })
        .cookieSameSite,
    ).toBe("None");
  });
});

describe("providers from the environment", () => {
  const base = { HUSH_SECRET: SECRET, HUSH_DATABASE_URL: "sqlite::memory:" };
  const read = (env: Record<string, string>) => configFromEnv({ ...base, ...env }, () => {}).options;

  it("reads each listed provider's variables", () => {
    const options = read({
      HUSH_OAUTH_PROVIDERS: "google, demo",
      HUSH_OAUTH_GOOGLE_CLIENT_ID: "g-id",
      HUSH_OAUTH_GOOGLE_CLIENT_SECRET: "g-secret",
      HUSH_OAUTH_DEMO_ISSUER: "http://127.0.0.1:9000",
      HUSH_OAUTH_DEMO_CLIENT_ID: "d-id",
      HUSH_OAUTH_DEMO_TRUST_EMAIL: "on",
    });
    expect(options.oauthProviders).toEqual({
      google: { issuer: undefined, clientId: "g-id", clientSecret: "g-secret", scopes: undefined, trustEmail: undefined, label: undefined },
      demo: {
        issuer: "http://127.0.0.1:9000",
        clientId: "d-id",
        clientSecret: undefined,
        scopes: undefined,
        trustEmail: true,
        label: undefined,
      },
    });
  });

  it("stops start-up with one line naming the missing or bad variable", () => {
    expect(() => read({ HUSH_OAUTH_PROVIDERS: "google" })).toThrow(/^HUSH_OAUTH_GOOGLE_CLIENT_ID: required/);
    expect(() => read({ HUSH_OAUTH_PROVIDERS: "acme", HUSH_OAUTH_ACME_CLIENT_ID: "x" })).toThrow(/^HUSH_OAUTH_ACME_ISSUER: required/);
    expect(() =>
      read({ HUSH_OAUTH_PROVIDERS: "github", HUSH_OAUTH_GITHUB_CLIENT_ID: "x", HUSH_OAUTH_GITHUB_TRUST_EMAIL: "maybe" }),
    ).toThrow(/^HUSH_OAUTH_GITHUB_TRUST_EMAIL: /);
    // A plain-http issuer is only for loopback hosts (checked when the server's options resolve).
    expect(() =>
      resolveOptions({
        secret: SECRET,
        issuer: "http://127.0.0.1:4000",
        oauthProviders: { acme: { issuer: "http://idp.example", clientId: "x" } },
      }),
    ).toThrow(/oauthProviders.acme.issuer must be https:/);
  });
});
