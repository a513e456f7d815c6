import { createAuthClient } from "@hush/client";
import { readLinkToken } from "@hush/client/email";
import { readProviderResult } from "@hush/client/providers";
import { AuthProvider } from "@hush/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import { config } from "./config.js";
import "./styles.css";

// Tests may set extra client options (e.g. autoRefresh: false) before the app loads.
const overrides = (window as unknown as { HUSH_CLIENT_OPTIONS?: object }).HUSH_CLIENT_OPTIONS;
const client = createAuthClient({
  baseUrl: config.authBase,
  apiOrigins: [config.apiBase],
  // The demo's web server runs in the auth server's process and serves /api/me through
  // server.protect({ assistRefresh: true }): its X-Access-Token may be adopted.
  assistedRefreshOrigins: [location.origin],
  ...overrides,
});
// An emailed link (/verify-email#token=…): take its token out of the address bar and history
// at once; the page sends it only when the user clicks (main.tsx runs once per page load).
const linkToken = readLinkToken();
// Back from a provider sign-in that did not sign in (/sign-in#error=…, or #mfa=… for an account
// with a second factor): out of the address bar and history at once, too.
const providerResult = readProviderResult();

// Exposed for the end-to-end tests and for curious readers in the console.
(window as unknown as { hush: typeof client }).hush = client;

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <AuthProvider client={client}>
      <App linkToken={linkToken} providerResult={providerResult} />
    </AuthProvider>
  </StrictMode>,
);
