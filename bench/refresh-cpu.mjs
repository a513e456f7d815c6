// Server CPU per refresh: `hush serve` against a floor (bench/refresh-floor-server.mjs) doing
// only a refresh's necessary work, under the same closed-loop load (bench/peers/bench-refresh.mjs,
// 20 browsers each following its own rotation chain), both under load at once in each round. CPU is the
// server process's own (utime + stime from /proc), counted from when the sessions exist to the
// end of the loop, so the load generator sharing the cores does not blur it. Rounds of the floor
// with Hush's product features (`--features`) against the plain floor, run the same way, tell
// what those features cost from what Hush's own code costs; rounds with one browser, where no
// two refreshes are in flight at once, tell Hush's per-request cost apart from its group commit.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, ROOT, round, startHushServe, stopProcess, writeDocSection } from "./lib.mjs";

const LOAD = join(ROOT, "bench/peers/bench-refresh.mjs");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const USERS = 20;
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The CPU time a process has used so far, in microseconds. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // Fields 14 and 15 of stat (utime, stime), counted from the state field (3).
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
}

async function startFloor(folder, name = "floor", flags = []) {
  const child = spawn(process.execPath, [join(ROOT, "bench/refresh-floor-server.mjs"), join(folder, `${name}.db`), ...flags], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve) => child.stdout.once("data", (chunk) => resolve(String(chunk).trim())));
  return { url, pid: child.pid, stop: () => stopProcess(child) };
}

/** One round of load against `server`: requests per second and server CPU µs per request. */
async function measure(server, folder, name = "round", users = USERS) {
  const ready = join(folder, `ready-${name}-${Date.now()}`);
  const child = spawn(process.execPath, [LOAD, "hush", server.url, String(users), String(SECONDS)], {
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
  const featured = await startFloor(folder, "featured", ["--features"]);
  const loaded = await startFloor(folder, "loaded", ["--features", "--load-hush"]);
  // Per kind of round: Hush's measurements and the floor's beside them. `…One` rounds have one
  // browser, so no two refreshes are ever in flight at once: nothing for Hush to commit together.
  const kinds = [
    { kind: "floor", other: floor, users: USERS, label: "floor" },
    { kind: "featured", other: featured, users: USERS, label: "floor + features" },
    { kind: "loaded", other: loaded, users: USERS, label: "… + Hush loaded" },
    { kind: "floorOne", other: floor, users: 1, label: "floor, 1 browser" },
    { kind: "featuredOne", other: featured, users: 1, label: "… features, 1 br." },
  ];
  const rounds = Object.fromEntries(kinds.map(({ kind }) => [kind, { hush: [], other: [] }]));
  try {
    // One round each first, not counted: the servers' code is compiled by the JIT before timing.
    for (const server of [hush, floor, featured, loaded]) await measure(server, folder);
    // Hush and one floor under load at once in each round: whatever the machine does meanwhile
    // (other tenants, frequency changes) weighs on both alike, so their ratio holds where
    // timings drift. Rounds against each floor take turns.
    for (let r = 0; r < ROUNDS; r++) {
      for (const { kind, other, users, label } of kinds) {
        const [h, o] = await Promise.all([measure(hush, folder, "hush", users), measure(other, folder, kind, users)]);
        rounds[kind].hush.push(h);
        rounds[kind].other.push(o);
        for (const [name, result] of [
          ["hush", h],
          [label, o],
        ]) {
          console.log(`  ${name.padEnd(18)} ${result.rps} req/s, ${round(result.cpuMicrosPerRefresh, 0)} µs of server CPU per refresh`);
        }
      }
    }
  } finally {
    await hush.stop();
    await floor.stop();
    await featured.stop();
    await loaded.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  const micros = (list) => round(median(list.map((r) => r.cpuMicrosPerRefresh)), 0);
  const rps = (list) => median(list.map((r) => r.rps));
  // Each round's ratio is taken against the floor's round beside it, so drift of the machine
  // over the run cancels; the figure is their median.
  const ratiosOf = (kind) => rounds[kind].hush.map((r, i) => r.cpuMicrosPerRefresh / rounds[kind].other[i].cpuMicrosPerRefresh);
  const ratio = (kind) => round(median(ratiosOf(kind)), 2);
  const summary = {
    hushMicros: micros(rounds.floor.hush),
    floorMicros: micros(rounds.floor.other),
    ratio: ratio("floor"),
    featuredMicros: micros(rounds.featured.other),
    featuredRatio: ratio("featured"),
    loadedMicros: micros(rounds.loaded.other),
    loadedRatio: ratio("loaded"),
    oneBrowser: { hushMicros: micros(rounds.floorOne.hush), ratio: ratio("floorOne"), featuredRatio: ratio("featuredOne") },
  };
  /** A table row for a floor: its CPU, its rate, and Hush's ratio against it, with every round's. */
  const row = (kind, description) =>
    `| ${description} | ${micros(rounds[kind].other)} | ${rps(rounds[kind].other)} | **${ratio(kind)}×** (${ratiosOf(kind)
      .map((r) => round(r, 2))
      .join(", ")}) |`;
  const BARE =
    "bare floor: node:http + better-sqlite3 + node:crypto, only the necessary work of a plain rotation (`bench/refresh-floor-server.mjs`)";
  const FEATURED =
    "floor with features: the same, plus, as plainly, what Hush's refresh does for its features (`--features`: the successor's tag, the reuse grace's retired times, `auth_time`/`amr`/`sst`/`email_verified`, the suspension check, the hint cookie, `Pragma`, `Access-Control-Expose-Headers`)";
  writeDocSection(
    "refresh-cpu",
    [
      "## Server CPU per refresh, against a floor",
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} on ${process.version}: ${USERS} browsers each following its own rotation chain (\`bench/peers/bench-refresh.mjs\`), one uncounted warm-up round per server, then ${ROUNDS} rounds of ${SECONDS} s of Hush against each floor below, taking turns, with both servers of a round under load at once (each with its own load generator), so that whatever else the machine does weighs on both alike; the server's own CPU time (utime + stime) per refresh, so the load generators on the same cores do not count. Four busy processes share the 2 cores, so the figures run higher than each server alone would; the ratios are the measure (medians of the rounds' ratios, each round's against the floor beside it).`,
      "",
      "| server | CPU µs per refresh (median of its rounds) | requests/s | Hush against it |",
      "|---|---|---|---|",
      `| Hush (\`hush serve\`, SQLite, rotating), in the rounds against the bare floor | ${summary.hushMicros} | ${rps(rounds.floor.hush)} | |`,
      row("floor", BARE),
      row("featured", FEATURED),
      row(
        "loaded",
        "floor with features in a process that has also loaded `@hush/server` and started an idle auth server (`--features --load-hush`)",
      ),
      "",
      "Read down the last column: Hush against the bare floor is the target's figure (at most 1.15×); the second row takes out what the features cost however plainly they are written; the third also takes out what it costs to have the product in the process at all (its code, heap and background work). Hush can cost less than the floors because on SQLite it commits the refreshes of one turn of the event loop together (`docs/choices.md`), where each floor commits every request on its own — a commit costs several times the UPDATE it ends.",
      "",
      `With one browser, no two refreshes are ever in flight at once, so every commit is a refresh's own and the table shows the cost of Hush's per-request code and features alone (Hush ${summary.oneBrowser.hushMicros} µs per refresh, ${rps(rounds.floorOne.hush)} requests/s, in the rounds against the bare floor):`,
      "",
      "| server, one browser | CPU µs per refresh | requests/s | Hush against it |",
      "|---|---|---|---|",
      row("floorOne", "bare floor"),
      row("featuredOne", "floor with features"),
    ].join("\n"),
  );
  return summary;
}
