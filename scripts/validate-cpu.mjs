// CPU and memory of `lvsprov validate` on the 5 MB inventory of scripts/big-inventory.mjs, beside the
// same command on a small inventory (what starting node and loading lvsprov costs by itself). Each
// run is the bin with the node flags of its first line. Prints the least and the median user +
// system CPU of the rounds, with user, system, wall and peak RSS of the least; run after `npm run build`:
//   node scripts/validate-cpu.mjs [--rounds N] [--against DIR]
// --against DIR: another built checkout (an older commit) measured in the same rounds, alternately,
// so that both see the same load.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, against: { type: 'string' } } });
const rounds = Number(options.rounds);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const checkouts = [root, ...(options.against ? [resolve(options.against)] : [])];
// Loaded into the measured process: its own CPU time and peak memory, as it exits.
const report = `data:text/javascript,process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\nRUSAGE ' + JSON.stringify(u) + '\\n'); });`;

/** A checkout's bin: CommonJS since 2026-12-07, an ES module before (an older checkout to compare with). */
const binOf = (checkout) => ['bin/lvsprov.cjs', 'bin/lvsprov.js'].map((name) => join(checkout, name)).find((path) => existsSync(path)) ?? join(checkout, 'bin/lvsprov.cjs');

/** The node flags of a bin's first line (`#!/usr/bin/env -S node --flag ...`), as the installed command runs with them. */
const nodeFlags = (checkout) => readFileSync(binOf(checkout), 'utf8').split('\n')[0].split(/\s+/).filter((word) => word.startsWith('--'));

function runOnce(checkout, inventory) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [...nodeFlags(checkout), '--import', report, binOf(checkout), 'validate', '-i', inventory], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = performance.now() - started;
  const line = run.stderr.split('\n').find((text) => text.startsWith('RUSAGE '));
  if (run.status !== 0 || !line) throw new Error(`validate ${inventory} failed (exit ${run.status}):\n${run.stderr.slice(0, 2000)}`);
  return { ...JSON.parse(line.slice('RUSAGE '.length)), wall };
}

const cpu = (run) => run.userCPUTime + run.systemCPUTime;
const seconds = (microseconds) => (microseconds / 1e6).toFixed(2);

function summary(runs) {
  const sorted = [...runs].sort((a, b) => cpu(a) - cpu(b));
  const best = sorted[0];
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  return `${seconds(cpu(best))} s CPU (${seconds(best.userCPUTime)} s user, ${seconds(best.systemCPUTime)} s system), ${(best.wall / 1000).toFixed(2)} s wall, peak RSS ${Math.round(best.maxRSS / 1024)} MB; median ${seconds(cpu(median))} s CPU`;
}

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-validate-cpu-'));
const loads = () => loadavg().map((load) => load.toFixed(2)).join(' ');
console.log(`${new Date().toISOString()}, load average ${loads()}, ${rounds} rounds`);
try {
  const big = join(dir, 'big.yaml');
  const made = spawnSync(process.execPath, [join(root, 'scripts/big-inventory.mjs')], { encoding: 'utf8', maxBuffer: 1 << 26 });
  writeFileSync(big, made.stdout);
  const megabytes = (statSync(big).size / 1e6).toFixed(1);
  const inventories = [
    [`${megabytes} MB inventory of 74,920 hosts`, big],
    ['inventories/prod.yaml (startup alone)', join(root, 'inventories/prod.yaml')],
  ];
  const runs = new Map();
  for (let round = 0; round < rounds; round += 1) {
    for (const [, inventory] of inventories) {
      for (const checkout of checkouts) {
        const key = `${checkout}\n${inventory}`;
        runs.set(key, [...(runs.get(key) ?? []), runOnce(checkout, inventory)]);
      }
    }
  }
  for (const checkout of checkouts) {
    console.log(`${checkout} (node flags: ${nodeFlags(checkout).join(' ') || 'none'})`);
    for (const [label, inventory] of inventories) console.log(`  validate, ${label}: ${summary(runs.get(`${checkout}\n${inventory}`))}`);
  }
  console.log(`load average ${loads()} at the end`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
