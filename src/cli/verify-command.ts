import { Command, InvalidArgumentError } from 'commander';
import { resolveConnections, sshConfigNoteLine } from '../config/connections.js';
import { loadInventory, type LoadedInventory } from '../config/inventory.js';
import { verifyDefaults } from '../verify/defaults.js';
import { failoverDefaults } from '../verify/failover/defaults.js';
import { exitCodeForFailover, exitCodeForVerify } from './exit-codes.js';
import type { CliIo } from './io.js';
import { oneInventory, sshConfigOption, wholeNumber } from './option-values.js';

interface VerifyFlags {
  inventory: string;
  requests: number;
  tolerance: number;
  timeout: number;
  timeLimit: number;
  client?: string;
  json: boolean;
  acceptNewHostKeys: boolean;
  sshConfig?: string;
  failover: boolean;
  maxGap: number;
  rate: number;
}

export function verifyCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('verify')
    .description(
      'from a client host, send requests to every virtual service and compare who answered with the weights; ' +
        'check that only the director answers ARP for each VIP, and fetch each real server\'s page directly',
    )
    .requiredOption('-i, --inventory <file>', 'inventory YAML (- for standard input)', oneInventory)
    .option('-n, --requests <n>', 'requests per virtual service', (value) => wholeNumber(value, '--requests', 1, 10_000), verifyDefaults.requests)
    .option('-t, --tolerance <points>', 'how many percentage points a share may be off', (value) => percent(value), verifyDefaults.tolerance)
    .option('--client <host>', 'inventory host that sends the requests (default: the first of group clients)')
    .option('--timeout <seconds>', 'per request', (value) => wholeNumber(value, '--timeout', 1, 60), verifyDefaults.timeoutSeconds)
    .option('--time-limit <seconds>', "per service: the client's request loop stops after this long", (value) => wholeNumber(value, '--time-limit', 1, 3600), verifyDefaults.timeLimitSeconds)
    .option('--json', 'print the report as JSON on stdout', false)
    .option('--accept-new-host-keys', 'record the keys of hosts not yet in known_hosts (a changed key is always refused)', false)
    .addOption(sshConfigOption())
    .option('--failover', 'a failover drill instead of the checks: per VRRP instance, stop keepalived on the master while the client sends requests, measure the handover and the move back, start keepalived again', false)
    .option('--max-gap <seconds>', '--failover: the longest time without an answer a handover may take', (value) => positiveSeconds(value, '--max-gap'), failoverDefaults.maxGapSeconds)
    .option('--rate <n>', '--failover: requests per second to each VIP', (value) => wholeNumber(value, '--rate', 1, 100), failoverDefaults.ratePerSecond)
    .action(async (flags: VerifyFlags) => {
      const inventory = loadConnecting(io, flags);
      if (flags.failover) {
        setExit(await runFailover(io, flags, inventory));
        return;
      }
      // verify's code loads only when verify runs.
      const [{ verifyCluster }, { renderVerify }, { listrVerifyProgress, plainVerifyProgress }] = await Promise.all([
        import('../verify/run-verify.js'),
        import('../report/verify-text.js'),
        import('./verify-progress.js'),
      ]);
      // Progress on stderr as each service and ARP check ends; stdout gets the report alone.
      const progress = io.isTTY ? await listrVerifyProgress() : plainVerifyProgress(io.err);
      const report = await verifyCluster(inventory, {
        onProgress: progress.sink,
        requests: flags.requests,
        tolerance: flags.tolerance,
        timeoutSeconds: flags.timeout,
        timeLimitSeconds: flags.timeLimit,
        ...(flags.client !== undefined ? { client: flags.client } : {}),
        acceptNewHostKeys: flags.acceptNewHostKeys,
        ...(flags.sshConfig !== undefined ? { sshConfigFile: flags.sshConfig } : {}),
      }).finally(() => progress.finish());
      const code = exitCodeForVerify(report);
      io.out(flags.json ? JSON.stringify({ exitCode: code, ...report }, null, 2) : renderVerify(report));
      setExit(code);
    });
}

/**
 * The inventory, with every host's connection resolved before any is contacted (a bad ssh_config
 * value or a missing private_key: exit 4) and, as apply does, the ssh_config lines lvsprov does not
 * apply said on stderr.
 */
function loadConnecting(io: CliIo, flags: VerifyFlags): LoadedInventory {
  const inventory = loadInventory(flags.inventory);
  const { notes } = resolveConnections(inventory, Object.keys(inventory.data.hosts), { sshConfigFile: flags.sshConfig, requireKeyFiles: true });
  for (const note of notes) io.err(sshConfigNoteLine(note));
  return inventory;
}

/** verify --failover: Ctrl-C ends the drill early, but keepalived is started again first. */
async function runFailover(io: CliIo, flags: VerifyFlags, inventory: LoadedInventory): Promise<number> {
  const [{ failoverDrill }, { renderFailover }, { watchInterrupts }] = await Promise.all([
    import('../verify/failover/run-failover.js'),
    import('../report/failover-text.js'),
    import('./interrupts.js'),
  ]);
  // Both signals only end the drill early: keepalived is started again wherever it stopped it.
  const interrupts = watchInterrupts(io, process, {
    first: 'interrupted: the drill stops here and starts keepalived again where it stopped it',
    second: 'interrupted again: keepalived is being started again; verify exits once it has',
  });
  try {
    const report = await failoverDrill(inventory, {
      ratePerSecond: flags.rate,
      maxGapSeconds: flags.maxGap,
      timeoutSeconds: flags.timeout,
      ...(flags.client !== undefined ? { client: flags.client } : {}),
      acceptNewHostKeys: flags.acceptNewHostKeys,
      ...(flags.sshConfig !== undefined ? { sshConfigFile: flags.sshConfig } : {}),
      signal: interrupts.interrupt,
      onProgress: (line) => io.err(`verify: ${line}`),
    });
    const code = exitCodeForFailover(report);
    io.out(flags.json ? JSON.stringify({ exitCode: code, ...report }, null, 2) : renderFailover(report));
    return code;
  } finally {
    interrupts.dispose();
  }
}

function positiveSeconds(value: string, flag: string): number {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || number <= 0 || number > 3600) throw new InvalidArgumentError(`${flag} takes seconds above 0 and up to 3600, like 5 or 0.5, not ${value}`);
  return number;
}

function percent(value: string): number {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || number > 100) throw new InvalidArgumentError(`--tolerance takes percentage points from 0 to 100, not ${value}`);
  return number;
}
