// Server CPU per refresh: `hush serve` against a floor (bench/refresh-floor-server.mjs) doing
// only a refresh's necessary work, under the same closed-loop load (bench/peers/bench-refresh.mjs,
// 20 browsers each following its own rotation chain), both under load at once in each round. CPU is the
// server process's own (utime + stime from /proc), counted from when the sessions exist to the
// end of the loop, so the load generator sharing the cores does not blur it.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, ROOT, round, startHushServe, stopProcess, writeDocSection } from "./lib.mjs";

const LOAD = join(ROOT, "bench/peers/bench-refresh.mjs");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const USERS = 20;
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The CPU time a process has used so far, in microseconds. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // Fields 14 and 15 of stat (utime, stime), counted from the state field (3).
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
}

async function startFloor(folder) {
  const child = spawn(process.execPath, [join(ROOT, "bench/refresh-floor-server.mjs"), join(folder, "floor.db")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve) => child.stdout.once("data", (chunk) => resolve(String(chunk).trim())));
  return { url, pid: child.pid, stop: () => stopProcess(child) };
}

/** One round of load against `server`: requests per second and server CPU µs per request. */
async function measure(server, folder, name = "round") {
  const ready = join(folder, `ready-${name}-${Date.now()}`);
  const child = spawn(process.execPath, [LOAD, "hush", server.url, String(USERS), String(SECONDS)], {
    env: { ...process.env, BENCH_READY_FILE: ready },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 5));
  const before = cpuMicros(server.pid);
  await new Promise((resolve) => child.once("exit", resolve));
  const used = cpuMicros(server.pid) - before;
  const line = JSON.parse(out.trim().split("\n").at(-1));
  if (line.errors > 0) throw new Error(`${server.url}: ${line.errors} errors ${JSON.stringify(line.statuses)}`);
  return { rps: line.rps, cpuMicrosPerRefresh: used / line.requests };
}

export async function benchRefreshCpu() {
  const folder = mkdtempSync(join(tmpdir(), "hush-bench-cpu-"));
  const hush = await startHushServe({ HUSH_PRUNE_INTERVAL: "0" });
  const floor = await startFloor(folder);
  const results = { hush: [], floor: [] };
  try {
    // One round each first, not counted: both servers' code is compiled by the JIT before timing.
    await measure(hush, folder);
    await measure(floor, folder);
    // Both servers under load at once in each round: whatever the machine does meanwhile (other
    // tenants, frequency changes) weighs on both alike, so their ratio holds where timings drift.
    for (let r = 0; r < ROUNDS; r++) {
      const [h, f] = await Promise.all([measure(hush, folder, "hush"), measure(floor, folder, "floor")]);
      results.hush.push(h);
      results.floor.push(f);
      for (const [name, result] of [
        ["hush", h],
        ["floor", f],
      ]) {
        console.log(`  ${name.padEnd(6)} ${result.rps} req/s, ${round(result.cpuMicrosPerRefresh, 0)} µs of server CPU per refresh`);
      }
    }
  } finally {
    await hush.stop();
    await floor.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  const hushMicros = median(results.hush.map((r) => r.cpuMicrosPerRefresh));
  const floorMicros = median(results.floor.map((r) => r.cpuMicrosPerRefresh));
  // Each round's ratio is taken against the floor's round beside it, so drift of the machine
  // over the run cancels; the figure is their median.
  const ratios = results.hush.map((r, i) => r.cpuMicrosPerRefresh / results.floor[i].cpuMicrosPerRefresh);
  const summary = { hushMicros: round(hushMicros, 0), floorMicros: round(floorMicros, 0), ratio: round(median(ratios), 2) };
  writeDocSection(
    "refresh-cpu",
    [
      "## Server CPU per refresh, against a floor",
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} on ${process.version}: ${USERS} browsers each following its own rotation chain (\`bench/peers/bench-refresh.mjs\`), one uncounted warm-up round each, then ${ROUNDS} rounds of ${SECONDS} s with both servers under load at once (each with its own load generator), so that whatever else the machine does weighs on both alike; the server's own CPU time (utime + stime) per refresh, so the load generators on the same cores do not count. Four busy processes share the 2 cores, so both figures run higher than each server alone would; the ratio is the measure.`,
      "",
      "| server | CPU µs per refresh (median of rounds) | requests/s |",
      "|---|---|---|",
      `| Hush (\`hush serve\`, SQLite, rotating) | ${summary.hushMicros} | ${median(results.hush.map((r) => r.rps))} |`,
      `| floor: node:http + better-sqlite3 + node:crypto, only the necessary work (\`bench/refresh-floor-server.mjs\`) | ${summary.floorMicros} | ${median(results.floor.map((r) => r.rps))} |`,
      "",
      `**Hush spends ${summary.ratio}× the floor** (median of the rounds' ratios; target: at most 1.15×). Per round: ${ratios.map((r) => round(r, 2)).join(", ")}.`,
    ].join("\n"),
  );
  return summary;
}
