// CPU and memory of `lvsprov validate` on the 5 MB inventory of scripts/big-inventory.mjs, beside the
// same command on a small inventory (what starting node and loading lvsprov costs by itself).
// Prints the best of three runs of each; run after `npm run build`:
//   node scripts/validate-cpu.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Loaded into the measured process: its own CPU time and peak memory, as it exits.
const report = `data:text/javascript,process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\nRUSAGE ' + JSON.stringify(u) + '\\n'); });`;

function measure(inventory) {
  const runs = [1, 2, 3].map(() => {
    const run = spawnSync(process.execPath, ['--import', report, join(root, 'bin/lvsprov.js'), 'validate', '-i', inventory], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = run.stderr.split('\n').find((text) => text.startsWith('RUSAGE '));
    if (run.status !== 0 || !line) throw new Error(`validate ${inventory} failed (exit ${run.status}):\n${run.stderr.slice(0, 2000)}`);
    return JSON.parse(line.slice('RUSAGE '.length));
  });
  const best = runs.reduce((a, b) => (b.userCPUTime < a.userCPUTime ? b : a));
  return `${(best.userCPUTime / 1e6).toFixed(2)} s user, ${(best.systemCPUTime / 1e6).toFixed(2)} s system, peak RSS ${Math.round(best.maxRSS / 1024)} MB`;
}

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-validate-cpu-'));
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
