import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { internalsOf } from "../packages/server/src/internals.js";
import { type Demo, HAS_CHROMIUM, launchDemo, openApp, screenshot, signUpInUi, stateOf } from "./demo-fixture.js";

/** The attacker's page: another site (127.0.0.1, while the app is on localhost). */
function attackerPage(authUrl: string): string {
  return `<!doctype html><html><body>
<h1>Win a prize!</h1>
<form id="refresh" method="POST" action="${authUrl}/auth/refresh" target="sink1"></form>
<form id="logout" method="POST" action="${authUrl}/auth/logout" target="sink2" enctype="text/plain"><input name='{"x":"' value='y"}'></form>
<form id="login" method="POST" action="${authUrl}/auth/login" target="sink3"><input name="email" value="attacker@evil.example"><input name="password" value="attacker-password-1"></form>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe><iframe name="sink3"></iframe>
<script>
window.attack = async () => {
  const results = {};
  try {
    const r = await fetch(${JSON.stringify(authUrl)} + "/auth/refresh", { method: "POST", credentials: "include", headers: { "x-hush-csrf": "1" } });
    results.corsRefresh = "read: " + (await r.text());
  } catch (e) { results.corsRefresh = "blocked"; }
  try {
    const r = await fetch(${JSON.stringify(authUrl)} + "/auth/refresh", { method: "POST", credentials: "include", mode: "no-cors" });
    results.noCorsRefresh = r.type + ":" + (await r.text());
  } catch (e) { results.noCorsRefresh = "blocked"; }
  try {
    const r = await fetch(${JSON.stringify(authUrl)} + "/auth/logout", { method: "POST", credentials: "include", mode: "no-cors" });
    results.noCorsLogout = r.type;
  } catch (e) { results.noCorsLogout = "blocked"; }
  for (const id of ["refresh", "logout", "login"]) document.getElementById(id).submit();
  await new Promise((r) => setTimeout(r, 1500));
  for (const name of ["sink1", "sink2", "sink3"]) {
    try { results[name] = "read: " + frames[name].document.body.innerText; } catch (e) { results[name] = "blocked"; }
  }
  return results;
};
</script></body></html>`;
}

describe.skipIf(!HAS_CHROMIUM)("an attacker's page on another site", () => {
  let demo: Demo;
  let attacker: Server;
  let attackerUrl: string;
  beforeAll(async () => {
    demo = await launchDemo(30);
    attacker = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(attackerPage(demo.authUrl)));
    await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", r));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((r) => attacker.close(r));
    await demo?.stop();
  });

  it("can neither refresh, log out nor log in the user, and reads nothing", async () => {
    const context = await demo.browser.newContext();
    const app = await openApp(context, demo);
    await signUpInUi(app);
    const token = (await app.evaluate(() =>
      (window as never as { hush: { getAccessToken(): Promise<string> } }).hush.getAccessToken(),
    )) as string;
    const sid = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()).sid as string;
    const before = (await internalsOf(demo.auth).storage.findSessionWithUser(sid))?.session;

    const evil = await context.newPage();
    await evil.goto(attackerUrl);
    const results = await evil.evaluate(() => (window as never as { attack(): Promise<Record<string, string>> }).attack());
    await screenshot(evil, "attacker-page");

    // The attacker read nothing: CORS refused the credentialed fetch, no-cors answers are
    // opaque, and the framed answers are cross-origin.
    expect(results.corsRefresh).toBe("blocked");
    expect(results.noCorsRefresh).toBe("opaque:");
    expect(results.noCorsLogout).toBe("opaque");
    for (const sink of ["sink1", "sink2", "sink3"]) expect(results[sink]).toBe("blocked");

    // Nothing happened to the session: not rotated, not revoked.
    const after = (await internalsOf(demo.auth).storage.findSessionWithUser(sid))?.session;
    expect(after?.revokedAt).toBeNull();
    expect(after?.currentHash).toBe(before?.currentHash);
    expect(after?.generation).toBe(before?.generation);
    // And the user is still signed in, with a refresh that works.
    expect(await stateOf(app)).toBe("authenticated");
    expect(await app.evaluate(() => (window as never as { hush: { refresh(): Promise<string | null> } }).hush.refresh())).toBeTruthy();
    expect(await stateOf(app)).toBe("authenticated");
    await context.close();
  });
});
