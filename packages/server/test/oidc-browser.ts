/**
 * A small scripted browser for provider sign-ins over real HTTP: it follows redirects by hand
 * (so a test sees every hop), keeps cookies per host, and fills the demo provider's login and
 * consent forms. The Chromium suite does the same in a real browser.
 */
export class ScriptedBrowser {
  private readonly jar = new Map<string, Map<string, string>>();
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let cookies = this.jar.get(host);
    if (!cookies) {
      cookies = new Map();
      this.jar.set(host, cookies);
    }
    return cookies;
  }

  /** One request, no redirect followed; remembers its cookies. */
  async request(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    this.visited.push(url);
    const headers = new Headers(init.headers);
    const cookies = [...this.cookies(url)].map(([k, v]) => `${k}=${v}`).join("; ");
    if (cookies) headers.set("cookie", cookies);
    let body = init.body;
    if (init.form) {
      headers.set("content-type", "application/x-www-form-urlencoded");
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { ...init, headers, body, redirect: "manual" });
    for (const raw of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = raw.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /max-age=0\b/i.test(a.trim())) || value === "";
      if (expired) this.cookies(url).delete(name);
      else this.cookies(url).set(name, value);
    }
    return response;
  }

  /** Follows redirects from `url` until a page answers, or `stop` says a URL is where to stop (not fetched). */
  async follow(url: string, stop: (url: URL) => boolean = () => false, init: RequestInit & { form?: Record<string, string> } = {}) {
    let next = url;
    let response = await this.request(next, init);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      next = new URL(response.headers.get("location") ?? "", next).href;
      if (stop(new URL(next))) return { url: next, response: undefined };
      response = await this.request(next);
    }
    return { url: next, response };
  }
}

/**
 * Signs in at the demo provider from its authorization URL: login form, then consent (or
 * `deny`), and returns the URL the provider sends the browser back to (the callback), unvisited.
 */
export async function throughDemoProvider(
  browser: ScriptedBrowser,
  authorizationUrl: string,
  user: { email: string; password: string },
  callbackPrefix: string,
  decision: "allow" | "deny" = "allow",
): Promise<string> {
  const atCallback = (url: URL) => url.href.startsWith(callbackPrefix);
  let step = await browser.follow(authorizationUrl, atCallback);
  for (let round = 0; round < 4 && step.response; round++) {
    const html = await step.response.text();
    const uid = /\/interaction\/([^/"]+)\//.exec(html)?.[1];
    if (!uid) throw new Error(`no interaction form at ${step.url}: ${html.slice(0, 200)}`);
    const origin = new URL(step.url).origin;
    step = html.includes(`/interaction/${uid}/login`)
      ? await browser.follow(`${origin}/interaction/${uid}/login`, atCallback, { method: "POST", form: user })
      : await browser.follow(`${origin}/interaction/${uid}/confirm`, atCallback, { method: "POST", form: { decision } });
  }
  if (step.response) throw new Error(`the provider did not send the browser back (at ${step.url})`);
  return step.url;
}
