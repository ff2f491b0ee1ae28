// Bundles the dashboard into dist/ (git-ignored), which the gateway serves: one script,
// one stylesheet, the page. Nothing is loaded from elsewhere at run time.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { build } from "esbuild";

const out = new URL("./dist/", import.meta.url);
await rm(out, { recursive: true, force: true });
await mkdir(new URL("assets/", out), { recursive: true });
await build({
  entryPoints: { app: "src/main.js" },
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  outdir: "dist/assets",
  logLevel: "warning",
});
await copyFile(new URL("./index.html", import.meta.url), new URL("index.html", out));
