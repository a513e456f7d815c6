// `npm run bench`: every benchmark of the project, each writing its section of docs/benchmarks.md.

import { benchRefreshCpu } from "./refresh-cpu.mjs";
import { benchRefreshFailures } from "./refresh-failures.mjs";
import { benchRevocationFeed } from "./revocation-feed.mjs";
import { benchScale } from "./scale.mjs";
import { benchServerCore } from "./server-core.mjs";
import { benchSoak } from "./soak.mjs";
import { benchVerify } from "./verify.mjs";

const only = process.argv[2];
const suites = {
  "server-core": benchServerCore,
  verify: benchVerify,
  scale: benchScale,
  "revocation-feed": benchRevocationFeed,
  "refresh-cpu": benchRefreshCpu,
  "refresh-failures": benchRefreshFailures,
  soak: benchSoak,
};
for (const [name, run] of Object.entries(suites)) {
  if (only && only !== name) continue;
  const result = await run();
  console.log(JSON.stringify({ suite: name, ...result }));
}
