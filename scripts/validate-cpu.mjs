// CPU and memory of `lvsprov validate` on the 5 MB inventory of scripts/big-inventory.mjs, beside the
// same command on a small inventory (what starting node and loading lvsprov costs by itself).
// Prints the best of three runs of each (least user + system CPU); run after `npm run build`:
//   node scripts/validate-cpu.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Loaded into the measured process: its own CPU time and peak memory, as it exits.
const report = `data:text/javascript,process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\nRUSAGE ' + JSON.stringify(u) + '\\n'); });`;

// The node flags of the bin's first line (`#!/usr/bin/env -S node --flag ...`), as the installed
// command runs with them.
const bin = join(root, 'bin/lvsprov.js');
const nodeFlags = readFileSync(bin, 'utf8').split('\n')[0].split(/\s+/).filter((word) => word.startsWith('--'));

function measure(inventory) {
  const runs = [1, 2, 3].map(() => {
    const run = spawnSync(process.execPath, [...nodeFlags, '--import', report, bin, 'validate', '-i', inventory], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = run.stderr.split('\n').find((text) => text.startsWith('RUSAGE '));
    if (run.status !== 0 || !line) throw new Error(`validate ${inventory} failed (exit ${run.status}):\n${run.stderr.slice(0, 2000)}`);
    return JSON.parse(line.slice('RUSAGE '.length));
  });
  const cpu = (run) => run.userCPUTime + run.systemCPUTime;
  const best = runs.reduce((a, b) => (cpu(b) < cpu(a) ? b : a));
  return `${(cpu(best) / 1e6).toFixed(2)} s CPU (${(best.userCPUTime / 1e6).toFixed(2)} s user, ${(best.systemCPUTime / 1e6).toFixed(2)} s system), peak RSS ${Math.round(best.maxRSS / 1024)} MB`;
}

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-validate-cpu-'));
console.log(`node flags of bin/lvsprov.js: ${nodeFlags.join(' ') || 'none'}`);
try {
  const big = join(dir, 'big.yaml');
  const made = spawnSync(process.execPath, [join(root, 'scripts/big-inventory.mjs')], { encoding: 'utf8', maxBuffer: 1 << 26 });
  writeFileSync(big, made.stdout);
  const megabytes = (statSync(big).size / 1e6).toFixed(1);
  console.log(`validate, ${megabytes} MB inventory of 74,920 hosts: ${measure(big)}`);
  console.log(`validate, inventories/prod.yaml (startup alone):  ${measure(join(root, 'inventories/prod.yaml'))}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
