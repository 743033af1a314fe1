import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Lab } from '../../src/lab/netns/index.js';

// The same cluster described for both tools: every lab host a DR real server of one VIP,
// reached from the control namespace with the lab's key and known_hosts.

export const benchVip = '198.51.100.50';
export const webRoot = '/var/www/lvsprov';
export const webPort = 80;
/** A director the service needs in the model; the bench playbooks never target it. */
const director = { name: 'director', address: '198.19.255.10' };

export function lvsprovInventory(lab: Lab): Record<string, unknown> {
  const hosts = lab.hosts;
  return {
    name: 'bench',
    ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 60 },
    groups: { realservers: { hosts: hosts.map((host) => host.name) }, directors: { hosts: [director.name] } },
    hosts: {
      ...Object.fromEntries(hosts.map((host) => [host.name, { address: host.addresses[0] }])),
      [director.name]: { address: director.address },
    },
    vars: { web_root: webRoot, web_port: webPort },
    lvs: {
      vips: { web: { address: benchVip } },
      services: [{ vip: 'web', port: webPort, scheduler: 'wrr', forwarding: 'dr', real_servers: hosts.map((host) => ({ host: host.name })) }],
    },
  };
}

export function ansibleInventory(lab: Lab): Record<string, unknown> {
  const sshArgs = [
    '-F /dev/null',
    '-o IdentitiesOnly=yes',
    `-o UserKnownHostsFile=${lab.knownHostsPath}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o StrictHostKeyChecking=yes',
    '-o ConnectTimeout=60',
  ].join(' ');
  return {
    all: {
      children: {
        realservers: { hosts: Object.fromEntries(lab.hosts.map((host) => [host.name, { ansible_host: host.addresses[0] }])) },
      },
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: lab.clientKeyPath,
        ansible_ssh_common_args: sshArgs,
        vip: benchVip,
        web_root: webRoot,
        web_port: webPort,
      },
    },
  };
}

export async function writeYaml(dir: string, file: string, value: unknown): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, stringify(value));
  return path;
}
