#!/usr/bin/env node
// Runs every compiled *.spec.js under dist/ with Node's own test runner and prints one closing line
// "N passed, N failed" (plus skipped) totalled over all suites.
//   node tools/test.mjs            unit, integration and database suites (everything but e2e/)
//   node tools/test.mjs --e2e      only the end-to-end lab suites (*.e2e.*.spec.js: root on Linux, network namespaces)
//   node tools/test.mjs PATTERN    only spec files whose path contains PATTERN
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const e2e = args.includes('--e2e');
const patterns = args.filter((a) => !a.startsWith('--'));

async function* walk(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith('.spec.js')) yield p;
  }
}

const files = [];
for await (const f of walk(join(root, 'dist'))) {
  const rel = relative(join(root, 'dist'), f);
  const isE2e = /\.e2e\./.test(rel);
  if (isE2e !== e2e) continue;
  if (patterns.length && !patterns.some((p) => rel.includes(p))) continue;
  files.push(f);
}
files.sort();
if (files.length === 0) {
  console.log('0 passed, 0 failed');
  console.error('test: no spec files found — did the build run?');
  process.exit(1);
}

const counts = join(tmpdir(), `palisade-test-counts-${process.pid}.json`);
const child = spawn(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${e2e ? 1 : 2}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'tools/count-reporter.mjs')}`,
    `--test-reporter-destination=${counts}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? (s ? 1 : 0))));
let total = { passed: 0, failed: 0, skipped: 0 };
try {
  total = JSON.parse(await readFile(counts, 'utf8'));
} catch {
  total.failed = Math.max(1, total.failed);
}
await rm(counts, { force: true });
if (code !== 0 && total.failed === 0) total.failed = 1; // a crashed file is a failure even if no test reported
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 ? 1 : 0);
