/** URLs the demo server writes into /config.js. */
export const config = (window as unknown as { HUSH_DEMO: { authBase: string; apiBase: string } }).HUSH_DEMO;
