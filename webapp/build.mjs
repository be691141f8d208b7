// Builds the Mini App's front end ahead of time: `npm run build` (after `npm ci`), and commit webapp/static/dist.
//
// The sources stay plain modules under webapp/static/js and app.css; what a phone downloads is built from them
// into webapp/static/dist: main-<hash>.js (boot and the menu) with the one chunk it shares with the rest,
// later-<hash>.js (every other screen, loaded after the menu), i18n-en-<hash>.js (English, loaded when chosen)
// and app-<hash>.css (inlined into the page). Names carry a hash of their content, so the server caches them
// for good (webapp/page.py); manifest.json tells the server which files the page names.
// tests/webapp/test_assets.py builds into a temporary folder and fails when the committed files differ.
import * as esbuild from 'esbuild';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--out');
const out = resolve(at > 0 ? process.argv[at + 1] : join(here, 'static', 'dist'));
const common = { bundle: true, minify: true, charset: 'utf8', legalComments: 'none', logLevel: 'warning',
  metafile: true, outdir: out, entryNames: '[name]-[hash]', assetNames: '[name]-[hash]' };

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const js = await esbuild.build({ ...common, entryPoints: [join(here, 'static', 'js', 'main.js')], format: 'esm',
  splitting: true, chunkNames: '[name]-[hash]', target: 'es2020' });
const css = await esbuild.build({ ...common, entryPoints: [join(here, 'static', 'app.css')],
  target: ['chrome80', 'safari14'] });

const named = (outputs, entry) => Object.entries(outputs).find(([, o]) => o.entryPoint && basename(o.entryPoint) === entry);
const [script, main] = named(js.metafile.outputs, 'main.js');
const manifest = {
  script: basename(script),
  // what main imports statically: fetched with it (modulepreload), not one round trip after it
  preload: main.imports.filter((i) => i.kind === 'import-statement').map((i) => basename(i.path)).sort(),
  css: basename(named(css.metafile.outputs, 'app.css')[0]),
  files: readdirSync(out).sort(),
};
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`built ${relative(process.cwd(), out) || '.'}: ${manifest.files.join(' ')}`);
