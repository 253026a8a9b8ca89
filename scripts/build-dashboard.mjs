// Bundles the dashboard's browser code (packages/gateway/dashboard-ui) with esbuild into
// packages/gateway/dist/dashboard-assets, with its pages, its stylesheet and uPlot's: everything the gateway serves
// under /dashboard, from the repository's own dependencies (no CDN; it works offline).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const ui = `${root}packages/gateway/dashboard-ui/`;
const out = `${root}packages/gateway/dist/dashboard-assets/`;
// esbuild and uPlot are the gateway package's devDependencies: resolved from there.
const require = createRequire(`${root}packages/gateway/package.json`);
const { build } = require('esbuild');

mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: `${ui}src/main.ts`, login: `${ui}src/login.ts` },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'login.html', 'dashboard.css', 'icon.svg']) copyFileSync(`${ui}${file}`, `${out}${file}`);
copyFileSync(require.resolve('uplot/dist/uPlot.min.css'), `${out}uPlot.min.css`);
