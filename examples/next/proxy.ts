import { hush } from "./lib/hush";

// Signs document navigations (and same-origin server actions) in from the refresh cookie.
export const proxy = hush.proxy;

export const config = {
  // Not for assets: nothing there is signed in.
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
