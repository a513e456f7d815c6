// Preloaded into the server process by bench/soak.mjs (`node --import`): every second it
// appends one JSON line — RSS and event-loop delay over that second — to SOAK_PROBE_FILE.
// Bench-only: the product itself carries no probe.
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.SOAK_PROBE_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = Date.now();
  setInterval(() => {
    const line = {
      t: (Date.now() - started) / 1000,
      rssMb: process.memoryUsage.rss() / 2 ** 20,
      heapMb: process.memoryUsage().heapUsed / 2 ** 20,
      p99Ms: delay.percentile(99) / 1e6,
      maxMs: delay.max / 1e6,
    };
    delay.reset();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 1000).unref();
}
