// Builds the viewer into dist/ (committed, embedded in the agent-trace binary by
// ingest/src/viewer/assets.rs): one script, one stylesheet, the two HTML pages and the icon.
// `node build.mjs OUTDIR` builds elsewhere, which scripts/check-viewer-bundle.sh uses to prove
// that dist/ is what these sources and package-lock.json give.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

await esbuild.build({
  entryPoints: { app: 'src/main.tsx' },
  outdir: join(out, 'assets'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});
for (const page of ['index.html', 'login.html']) copyFileSync(join('src', page), join(out, page));
copyFileSync('src/favicon.svg', join(out, 'assets', 'favicon.svg'));
