import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { resolveConnection } from '../config/connection.js';
import { loadInventory } from '../config/inventory.js';
import { own } from '../config/own.js';
import { suggestion } from '../config/suggest.js';
import { UsageError } from '../errors.js';
import type { CliIo } from './io.js';
import { oneInventory, sshConfigOption } from './option-values.js';

// `lvsprov ssh-config -i INV HOST...`: what lvsprov will use to reach each host, like `ssh -G`, with
// where every value came from (the inventory, an ssh_config line, or a default). Contacts no host.

function hostLines(inventory: ReturnType<typeof loadInventory>, host: string, sshConfigFile: string | undefined): string[] {
  const { target, origins, missingKeys, sshConfigFiles, ignored } = resolveConnection(inventory, host, { sshConfigFile });
  const row = (keyword: string, value: string, origin: string | undefined): string => `  ${keyword.padEnd(24)} ${value.padEnd(34)} # ${origin ?? ''}`;
  const lines = [`host ${host} (address ${own(inventory.data.hosts, host)?.address ?? '?'}; ssh_config ${sshConfigFiles.join(', ') || 'none'})`];
  lines.push(row('hostname', target.address, origins.hostname));
  lines.push(row('user', target.user, origins.user));
  lines.push(row('port', String(target.port), origins.port));
  if (target.privateKeys.length === 0) lines.push(row('identityfile', '(none)', origins.identity_files));
  for (const key of target.privateKeys) lines.push(row('identityfile', key, origins.identity_files));
  for (const key of missingKeys) lines.push(row('identityfile', `${key} (missing: skipped)`, origins.identity_files));
  for (const file of target.certificateFiles ?? []) lines.push(row('certificatefile', file, origins.certificate_files));
  for (const key of target.certificateFiles ? [] : target.privateKeys) if (existsSync(`${key}-cert.pub`)) lines.push(row('certificatefile', `${key}-cert.pub`, `beside ${key}, as ssh loads it`));
  lines.push(row('identityagent', target.agent ?? 'none', origins.agent));
  lines.push(row('passphrase', target.passphrase !== undefined ? '(from the environment)' : 'none', 'inventory ssh.passphrase_env'));
  lines.push(row('userknownhostsfile', target.knownHostsFiles.join(' ') || 'none', origins.known_hosts));
  lines.push(row('globalknownhostsfile', target.globalKnownHostsFiles.join(' ') || 'none', origins.global_known_hosts));
  if (target.hostKeyAlias) lines.push(row('hostkeyalias', target.hostKeyAlias, origins.host_key_alias));
  lines.push(row('hashknownhosts', target.hashKnownHosts ? 'yes' : 'no', origins.hash_known_hosts));
  lines.push(row('stricthostkeychecking', target.strictHostKeyChecking ?? 'ask', origins.strict_host_key_checking));
  lines.push(row('checkhostip', target.checkHostIp ? 'yes' : 'no', origins.check_host_ip));
  lines.push(row('connecttimeout', String(target.connectTimeoutMs / 1000), origins.connect_timeout));
  lines.push(row('serveraliveinterval', String(target.serverAlive.intervalMs / 1000), origins.server_alive_interval));
  lines.push(row('serveralivecountmax', String(target.serverAlive.countMax), origins.server_alive_count_max));
  lines.push(row('proxyjump', target.jumps.map((jump) => `${jump.user}@${jump.address}:${jump.port}`).join(',') || 'none', origins.proxy_jump ?? 'default'));
  for (const jump of target.jumps) {
    lines.push(`  ${jump.label}: identityfile ${jump.privateKeys.join(' ') || '(none)'}, identityagent ${jump.agent ?? 'none'}, userknownhostsfile ${jump.knownHostsFiles.join(' ')}`);
  }
  for (const note of ignored) lines.push(`  note: ${note}`);
  return lines;
}

export function sshConfigCommand(io: CliIo): Command {
  return new Command('ssh-config')
    .description('show how lvsprov will reach each host (like ssh -G): address, user, port, keys, agent, known_hosts, jump hosts, and where each value comes from')
    .requiredOption('-i, --inventory <file>', 'inventory YAML (- for standard input)', oneInventory)
    .addOption(sshConfigOption())
    .argument('[hosts...]', 'inventory hosts (default: all)')
    .action((hosts: string[], flags: { inventory: string; sshConfig?: string }) => {
      const inventory = loadInventory(flags.inventory);
      const names = hosts.length > 0 ? hosts : Object.keys(inventory.data.hosts);
      for (const name of names) {
        if (!own(inventory.data.hosts, name)) throw new UsageError(`unknown host ${name}${suggestion(name, Object.keys(inventory.data.hosts))}`);
      }
      io.out(names.flatMap((name) => hostLines(inventory, name, flags.sshConfig)).join('\n'));
    });
}
