// `npm run docs:settings`: writes docs/configuration.md from the settings table
// (packages/server/src/config/settings.ts), between its markers. A test fails when they differ.
import { readFileSync, writeFileSync } from "node:fs";
import { settingsTable } from "../packages/server/dist/config/settings.js";

const file = new URL("../docs/configuration.md", import.meta.url);
const readme = readFileSync(file, "utf8");
const start = "<!-- settings:start -->";
const end = "<!-- settings:end -->";
const i = readme.indexOf(start);
const j = readme.indexOf(end);
if (i < 0 || j < i) throw new Error("docs/configuration.md has no settings markers");
writeFileSync(file, `${readme.slice(0, i + start.length)}\n${settingsTable()}\n${readme.slice(j)}`);
console.log("docs/configuration.md: configuration table written");
