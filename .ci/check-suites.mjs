// Fails unless every *.test.ts file in the repository ran, none was skipped, and every test
// passed, according to vitest's JSON report. Prints one closing line: "N passed, N failed".

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";

const reportPath = process.argv[2];
if (!reportPath) {
  console.error("usage: node .ci/check-suites.mjs REPORT.json");
  process.exit(2);
}
const report = JSON.parse(readFileSync(reportPath, "utf8"));
const root = process.cwd();
const expected = execFileSync("git", ["ls-files", "*.test.ts"], { encoding: "utf8" }).split("\n").filter(Boolean);
const ran = new Map(report.testResults.map((r) => [relative(root, resolve(r.name)), r]));

const problems = [];
for (const file of expected) {
  const result = ran.get(file);
  if (!result) {
    problems.push(`${file}: did not run`);
    continue;
  }
  const tests = result.assertionResults ?? [];
  const skipped = tests.filter((t) => t.status !== "passed" && t.status !== "failed");
  if (tests.length === 0) problems.push(`${file}: ran no test`);
  for (const t of skipped) problems.push(`${file}: "${t.fullName}" was ${t.status}`);
}
const passed = report.numPassedTests;
const failed = report.numFailedTests;
for (const p of problems) console.error(`check-suites: ${p}`);
console.log(`suites: ${expected.length} expected, ${ran.size} ran`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(problems.length > 0 || failed > 0 || !report.success ? 1 : 0);
