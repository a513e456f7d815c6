import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { builtinModules, createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, it } from "vitest";

// What a user gets from `npm install @hush/…`: every public package packed with `npm pack`,
// installed together into a fresh project outside the workspace (no workspace links, no
// hoisted devDependencies), then each entry point imported as ESM and type-checked with tsc.
// It needs every package's dist: `npm test` builds first.

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");
/** What a user installs beside the packages to use every entry point (optional peers, types). */
const USER_DEPENDENCIES = [
  "express",
  "@types/express",
  "fastify",
  "fastify-plugin",
  "hono",
  "next",
  "react",
  "react-dom",
  "@types/react",
  "@types/node",
  "vitest",
];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  type?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports: Record<string, Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Packed {
  dir: string;
  manifest: Manifest;
  tarball: string;
  files: string[];
}

const manifests = readdirSync(join(ROOT, "packages"))
  .map((name) => ({ dir: join(ROOT, "packages", name), file: join(ROOT, "packages", name, "package.json") }))
  .filter(({ file }) => existsSync(file))
  .map(({ dir, file }) => ({ dir, manifest: JSON.parse(readFileSync(file, "utf8")) as Manifest }))
  .filter(({ manifest }) => !manifest.private);
/** Every import specifier a user can write: `@hush/verify`, `@hush/verify/express` … */
const entryPoints = manifests.flatMap(({ manifest }) => Object.keys(manifest.exports).map((key) => posix.join(manifest.name, key)));

/** This environment without what an outer `npm test` set for its own script (package fields, lifecycle, workspaces). */
function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|config_workspaces?$)/i.test(key)) delete env[key];
  }
  return env;
}

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Bare specifiers of every `import`/`export … from`/`import()` in a JS or declaration file. */
function bareImports(code: string): string[] {
  // `from` as a keyword, not as the end of a property path in a string (`"mail.from"`).
  const found = [...code.matchAll(/(?:(?<![.\w])from\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)].map((m) => m[1] ?? "");
  return found.filter((s) => !s.startsWith(".") && !s.startsWith("/"));
}

let work = "";
let app = "";
const packed: Packed[] = [];

beforeAll(async () => {
  for (const { dir, manifest } of manifests) {
    const main = join(dir, manifest.exports["."]?.default ?? "dist/index.js");
    if (!existsSync(main)) throw new Error(`${manifest.name} is not built (${main} is missing): run \`npm run build\` first`);
  }
  work = await mkdtemp(join(tmpdir(), "hush-publish-"));
  const tarballs = join(work, "tarballs");
  await mkdir(tarballs);
  const workspaces = manifests.flatMap(({ dir }) => ["--workspace", dir]);
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", tarballs, ...workspaces], {
    cwd: ROOT,
    env: npmEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
  const results = JSON.parse(stdout) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
  for (const { dir, manifest } of manifests) {
    const result = results.find((r) => r.name === manifest.name);
    if (!result) throw new Error(`npm pack did not pack ${manifest.name}`);
    packed.push({ dir, manifest, tarball: join(tarballs, result.filename), files: result.files.map((f) => f.path) });
  }

  app = join(work, "app");
  await mkdir(app);
  const dependencies: Record<string, string> = {};
  for (const p of packed) dependencies[p.manifest.name] = `file:${p.tarball}`;
  // The versions the workspace is tested with, so the npm cache answers without the network.
  for (const name of USER_DEPENDENCIES) dependencies[name] = installedVersion(name);
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "hush-publish-check", private: true, type: "module", dependencies }));
  // --ignore-scripts: the one install script, better-sqlite3's, fetches or compiles a native
  // addon that is loaded only when a database is opened (nothing here opens one), and would
  // cost more than the rest of this test.
  await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts", "--loglevel=error"],
    {
      cwd: app,
      env: npmEnv(),
    },
  );
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// Concurrent: tsc, the ESM imports and the bin are separate processes that need not queue.
describe.concurrent("the published packages", () => {
  it("each carry a LICENSE, a README, their metadata and every file their exports, main, types and bin name, but no tests", ({
    expect,
  }) => {
    for (const { manifest, files } of packed) {
      expect(manifest, manifest.name).toMatchObject({ license: "MIT", type: "module", description: expect.any(String) });
      expect(files, manifest.name).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
      const targets = [
        ...Object.values(manifest.exports).flatMap((conditions) => Object.values(conditions)),
        manifest.main,
        manifest.types,
        ...Object.values(manifest.bin ?? {}),
      ].filter((t): t is string => t !== undefined);
      for (const target of targets) expect(files, `${manifest.name}: ${target}`).toContain(posix.normalize(target));
      expect(
        files.filter((f) => /\.test(-helpers)?\.tsx?$/.test(f)),
        manifest.name,
      ).toEqual([]);
    }
  });

  it("each declare every package their code and types import", ({ expect }) => {
    const builtins = new Set(builtinModules);
    for (const { dir, manifest, files } of packed) {
      const declared = new Set(
        Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies }).concat(manifest.name),
      );
      const code = files.filter((f) => /^(dist|bin)\/.*\.(js|d\.ts)$/.test(f));
      const undeclared = new Set<string>();
      for (const file of code) {
        for (const specifier of bareImports(readFileSync(join(dir, file), "utf8"))) {
          if (specifier.startsWith("node:") && builtins.has(specifier.slice(5))) continue;
          if (!declared.has(packageOf(specifier))) undeclared.add(`${file} imports ${specifier}`);
        }
      }
      expect([...undeclared], `${manifest.name} must declare these as dependencies (or peers)`).toEqual([]);
    }
  });

  it("import as ESM outside the workspace, each entry point with the same exports as its source", async ({ expect }) => {
    const script = `const out = {}; for (const s of ${JSON.stringify(entryPoints)}) out[s] = Object.keys(await import(s)).sort(); console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "--eval", script], { cwd: app });
    const installed = JSON.parse(stdout) as Record<string, string[]>;
    for (const specifier of entryPoints) {
      // In this process the workspace resolves to TypeScript sources (vitest.config.ts).
      const source = Object.keys(await import(/* @vite-ignore */ specifier)).sort();
      expect(installed[specifier], `${specifier}: a stale build? run \`npm run build\``).toEqual(source);
    }
  }, 60_000);

  it("type-check with tsc under NodeNext resolution, declaration files included", async ({ expect }) => {
    // A namespace import of each entry point, and a property no module has: if the types were
    // missing or resolved to `any`, the @ts-expect-error would be unused, and tsc would fail.
    const lines = entryPoints.flatMap((specifier, i) => [
      `import * as entry${i} from ${JSON.stringify(specifier)};`,
      `// @ts-expect-error: ${specifier} has typed exports only`,
      `entry${i}.__not_an_export__;`,
    ]);
    lines.push(
      `import { createVerifier, type Verifier } from "@hush/verify";`,
      `import type { AccessTokenClaims } from "@hush/protocol";`,
      `const verify: Verifier = createVerifier({ issuer: "https://auth.example.test", audience: "api", keys: [] });`,
      `export const now: Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>> = verify.verifyNow("token");`,
    );
    await writeFile(join(app, "entry-points.ts"), `${lines.join("\n")}\n`);
    const compilerOptions = {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2023", "DOM", "DOM.Iterable"],
      types: ["node"],
      strict: true,
      noEmit: true,
      verbatimModuleSyntax: true,
      // Our .d.ts files are checked too (an import they cannot resolve is an error), but not
      // TypeScript's own lib files: they cost seconds and are not ours to publish.
      skipLibCheck: false,
      skipDefaultLibCheck: true,
    };
    await writeFile(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["entry-points.ts"] }));
    const result = await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: app }).catch((error: { stdout?: string }) => error);
    // Next.js's own declaration files do not check without skipLibCheck (they name types of
    // packages it does not install): not ours to publish. Everything else must be clean.
    const errors = (result.stdout ?? "").split("\n").filter((line) => line.trim() !== "" && !/^node_modules\/next\/|^\s/.test(line));
    expect(errors).toEqual([]);
  }, 90_000);

  it("run the hush command from the installed bin", async ({ expect }) => {
    const { stdout } = await run(join(app, "node_modules", ".bin", "hush"), ["--help"], { cwd: app });
    expect(stdout).toMatch(/^Usage: hush <command>/);
  }, 30_000);
});
