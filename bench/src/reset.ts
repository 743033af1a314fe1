import { dirname } from 'node:path';
import type { Lab } from '../../src/lab/netns/index.js';
import { command } from '../../src/shell/quote.js';
import { benchVip, webRoot } from './inventories.js';

// "First apply" means a host as it was before either tool touched it. This undoes what the
// roles (and the equivalent playbook) create, through nsenter rather than SSH so that the reset
// never shows up in the sshd logs the bench counts. The first apply after a reset must then
// report changes on every host, which the contenders check.

const resetScript = [
  command('start-stop-daemon', '--stop', '--oknodo', '--quiet', '--retry', 'TERM/5/KILL/5', '--remove-pidfile', '--pidfile', '/run/lvsprov-lvsprov-web.pid', '--exec', '/bin/busybox'),
  command('rm', '-rf', webRoot, '/etc/sysctl.d/90-lvsprov-realserver-dr.conf'),
  // The web root's parent too where the apply made it (the lab hosts have no /var/www).
  `rmdir ${command(dirname(webRoot))} 2>/dev/null || true`,
  command('sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.all.arp_announce=0', 'net.ipv4.conf.lo.arp_ignore=0', 'net.ipv4.conf.lo.arp_announce=0'),
  `if ip -o -4 addr show dev lo | grep -q ${command(` ${benchVip}/32 `)}; then ${command('ip', 'addr', 'del', `${benchVip}/32`, 'dev', 'lo')}; fi`,
  // The VIP's boot hook (its addresses file, init script and runlevel links, as update-rc.d's
  // remove leaves them), lvsprov's record of what it made and of the kernel's original values,
  // and the host lock's directory (a fresh boot has none): without them the first apply of every
  // rep after the first would be a partial one (no init script, no update-rc.d, no mkdir).
  'rm -f /etc/rc?.d/[SK][0-9][0-9]lvsprov-realserver-dr',
  command('rm', '-rf', '/etc/init.d/lvsprov-realserver-dr', '/etc/lvsprov', '/var/lib/lvsprov', '/run/lvsprov'),
].join('\n');

export async function resetHosts(lab: Lab, concurrency = 8): Promise<void> {
  const hosts = lab.hosts.map((host) => host.name);
  let next = 0;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const host = hosts[next++] as string;
      const result = await lab.exec(host, ['sh', '-ec', resetScript]);
      if (result.code !== 0) failures.push(`${host}: exit ${result.code}: ${result.stderr.trim()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failures.length > 0) throw new Error(`resetting hosts failed:\n  ${failures.join('\n  ')}`);
}
