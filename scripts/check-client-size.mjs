// Fails the build when @hush/client, bundled and minified (what an app ships), is over its
// budget once gzipped. Prints the measured size either way.
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

// 4 KiB + 128 B: raised from 4,096 for the server-rendered session hand-off (`initialSession`) and the
// `hush_session` hint (about +120 B), after trims elsewhere paid back most of it.
const BUDGET_BYTES = 4224;
const root = new URL("..", import.meta.url).pathname;
const result = await build({
  entryPoints: [`${root}packages/client/src/index.ts`],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  write: false,
  conditions: ["source"],
  logLevel: "silent",
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`@hush/client: ${code.length} bytes minified, ${gzipped} bytes gzipped (budget ${BUDGET_BYTES})`);
if (gzipped > BUDGET_BYTES) {
  console.error(`@hush/client is over its size budget by ${gzipped - BUDGET_BYTES} bytes`);
  process.exit(1);
}
