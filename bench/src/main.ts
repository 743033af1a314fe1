import { parseBenchArgs, usage } from './args.js';
import { runBench } from './suite.js';
import { renderTable } from './table.js';

// `npm run bench`: progress on stderr, the table (or --json) on stdout.

let args;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  process.exit(4);
}

try {
  const result = await runBench(args, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${args.json ? JSON.stringify(result, null, 2) : renderTable(result)}\n`);
  // The bench measures lvsprov: its failing is an error; a floor or Ansible failing is a result.
  if (result.contenders.some((contender) => contender.id.startsWith('lvsprov') && contender.failures)) process.exitCode = 1;
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
