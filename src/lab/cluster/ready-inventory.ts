import type { Document } from 'yaml';
import { yamlLibrary } from '../../config/yaml-library.js';

// The inventory `lab up` writes next to its state: the user's own inventory, comments and all,
// with the connection settings replaced so lvsprov reaches every lab host through the guest's
// jump sshd. Host-level ssh blocks go: inside the lab every host's sshd listens on port 22 for
// the lab key, whatever the real cluster uses. The lab's client host joins the inventory as the
// first host of group `clients`, so `lvsprov verify` sends its requests from behind the router,
// the way real clients reach the VIPs. No play of the shipped playbooks targets `clients`.

export interface LabSsh {
  /** Paths as the inventory writes them; relative ones resolve against the inventory's folder. */
  readonly privateKey: string;
  readonly knownHosts: string;
  readonly jumpPort: number;
  readonly jumpKey: string;
  /** Seconds; logins into emulated hosts take seconds each, more when many run at once. */
  readonly connectTimeout: number;
}

export interface LabClient {
  readonly name: string;
  readonly address: string;
}

export function readyInventory(sourceText: string, sourceFile: string, ssh: LabSsh, client: LabClient): string {
  const document = yamlLibrary().parseDocument(sourceText);
  document.set('ssh', {
    user: 'root',
    private_key: ssh.privateKey,
    known_hosts: ssh.knownHosts,
    agent: false,
    connect_timeout: ssh.connectTimeout,
    jump: { address: '127.0.0.1', port: ssh.jumpPort, user: 'root', private_key: ssh.jumpKey, known_hosts: ssh.knownHosts },
  });
  const hosts = document.get('hosts', true);
  if (hosts && typeof hosts === 'object' && 'items' in hosts) {
    for (const name of Object.keys((document.toJS() as { hosts?: Record<string, unknown> }).hosts ?? {})) {
      document.deleteIn(['hosts', name, 'ssh']);
    }
  }
  addClient(document, client);
  document.commentBefore = [
    ` Written by \`lvsprov lab up\` from ${sourceFile}; rewritten on every lab up.`,
    ' Connection settings point at the lab: every host through the guest\'s jump sshd.',
    ...(document.commentBefore ? ['', ...document.commentBefore.split('\n')] : []),
  ].join('\n');
  return document.toString();
}

function addClient(document: Document, client: LabClient): void {
  document.setIn(['hosts', client.name], document.createNode({ address: client.address }, { flow: true }));
  const { isScalar, isSeq } = yamlLibrary();
  const members = document.getIn(['groups', 'clients', 'hosts'], true);
  if (isSeq(members)) {
    const names = members.items.map((item) => (isScalar(item) ? item.value : undefined));
    if (!names.includes(client.name)) members.items.unshift(document.createNode(client.name));
  } else {
    // setIn makes the maps on the way; a `clients` group with vars only keeps them.
    document.setIn(['groups', 'clients', 'hosts'], document.createNode([client.name], { flow: true }));
  }
}

export interface KnownHost {
  readonly addresses: readonly string[];
  readonly publicKey: string;
}

/** known_hosts for every lab host on every address, and the jump host on its loopback port. */
export function labKnownHosts(hosts: readonly KnownHost[], jump: { port: number; publicKey: string }): string {
  const lines = [`[127.0.0.1]:${jump.port} ${jump.publicKey}`, ...hosts.flatMap((host) => host.addresses.map((address) => `${address} ${host.publicKey}`))];
  return `${lines.join('\n')}\n`;
}
