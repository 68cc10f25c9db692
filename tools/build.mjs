#!/usr/bin/env node
// Transpiles every TypeScript source of the workspace into dist/ with SWC.
//
// Why SWC and not tsc for emit: SWC transpiles file by file in well under a second, keeps NestJS's
// decorator metadata (legacy decorators + emitDecoratorMetadata), and rewrites the workspace aliases
// (@palisade/policy, @palisade/pki) to relative paths so the output runs on plain Node with no loader.
// Type checking is a separate step (`npm run typecheck`, tsc --noEmit), run in CI.
// Incremental: a file is rebuilt only when its source is newer than its output.
import { transformFile } from '@swc/core';
import { mkdir, readdir, stat, writeFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const roots = ['apps', 'libs', 'migrations', 'e2e', 'bench', 'docker'];

if (process.argv.includes('--clean')) await rm(out, { recursive: true, force: true });

/** Files below `dir` whose name passes `want`, skipping node_modules, dist and dot-directories. */
async function* files(dir, want) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p, want);
    else if (want(e.name)) yield p;
  }
}
const isSource = (n) => n.endsWith('.ts') && !n.endsWith('.d.ts');
const walk = (dir) => files(dir, isSource);

const options = {
  sourceMaps: 'inline',
  module: { type: 'commonjs', strict: true },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
    baseUrl: root,
    paths: {
      '@palisade/policy': ['libs/policy/src/index.ts'],
      '@palisade/pki': ['libs/pki/src/index.ts'],
      '@palisade/protocol': ['libs/protocol/src/index.ts'],
    },
  },
};

let built = 0;
let failed = 0;
const jobs = [];
for (const r of roots) {
  for await (const src of walk(join(root, r))) {
    const dest = join(out, relative(root, src)).replace(/\.ts$/, '.js');
    jobs.push(
      (async () => {
        const [s, d] = await Promise.all([stat(src), stat(dest).catch(() => null)]);
        if (d && d.mtimeMs >= s.mtimeMs) return;
        try {
          const { code } = await transformFile(src, { ...options, filename: src });
          await mkdir(dirname(dest), { recursive: true });
          await writeFile(dest, code);
          built++;
        } catch (err) {
          failed++;
          console.error(`build: ${relative(root, src)}: ${err.message ?? err}`);
        }
      })(),
    );
  }
}
await Promise.all(jobs);

// Remove outputs whose source is gone (a deleted spec must not keep running from dist/).
const expected = new Set();
for (const r of roots) {
  for await (const src of walk(join(root, r))) expected.add(join(out, relative(root, src)).replace(/\.ts$/, '.js'));
}
for await (const f of files(out, (n) => n.endsWith('.js'))) {
  if (!expected.has(f)) await rm(f, { force: true });
}
if (failed) {
  console.error(`build: ${failed} file(s) failed`);
  process.exit(1);
}
if (process.argv.includes('--verbose')) console.error(`build: ${built} file(s) transpiled`);
