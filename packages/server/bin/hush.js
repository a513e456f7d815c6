#!/usr/bin/env node
// The `hush` command. Built code lives in dist/ (`npm run build` at the repository root).
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
