import { defaultClientConditions, defineConfig } from "vite";

// The web app is built to static files that the demo server serves; React's JSX runs through
// Vite's own transform (no plugin needed for a production build).
export default defineConfig({
  root: "web",
  build: { outDir: "../dist/web", emptyOutDir: true },
  resolve: { conditions: ["source", ...defaultClientConditions] },
  oxc: { jsx: { runtime: "automatic" } },
});
