import { hush } from "../../lib/hush";

// The auth server's Prometheus metrics (404 unless HUSH_METRICS=on): the e2e suite counts
// refreshes with them. Keep this path off the public network.
export const GET = hush.handlers.GET;
