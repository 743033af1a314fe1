import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/config/connection.js';
import { loadInventory } from '../../src/config/inventory.js';

// ProxyJump and ProxyCommand as OpenSSH 9.2 combines them (each case's expectation is what
// `ssh -G -F FILE HOST` and `ssh -v` showed for the same file): the first of the two obtained wins,
// `none` included; the first jump host's own ProxyJump is followed, recursively.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-proxy-chain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
// A jump host's user is its own User, else the local user, never the host's (ssh -J).
const me = userInfo().username;

function resolve(configLines: string[], address: string): ReturnType<typeof resolveConnection> {
  const config = join(dir, `config-${++count}`);
  writeFileSync(config, `${configLines.join('\n')}\n`);
  const inventory = join(dir, `inventory-${count}.yaml`);
  writeFileSync(inventory, stringify({ ssh: { agent: false, config_file: config, user: 'op' }, hosts: { h: { address } } }));
  return resolveConnection(loadInventory(inventory), 'h', { env: {} });
}
const chain = (configLines: string[], address: string): string[] => resolve(configLines, address).target.jumps.map((jump) => `${jump.user}@${jump.address}:${jump.port}`);

describe('ProxyJump against ProxyCommand: the first obtained wins', () => {
  it('refuses a ProxyCommand obtained before a ProxyJump, or after `ProxyJump none`, instead of connecting directly', () => {
    expect(() => resolve(['Host t', '  ProxyCommand nc %h %p', '  ProxyJump 192.0.2.9'], 't')).toThrow(/config-\d+:2:3: ProxyCommand .* is not supported/);
    expect(() => resolve(['Host t', '  ProxyJump none', 'Host *', '  ProxyCommand nc %h %p'], 't')).toThrow(/config-\d+:4:3: ProxyCommand .* is not supported/);
  });

  it('connects directly after `ProxyCommand none`, and through the jump when ProxyJump came first', () => {
    expect(chain(['Host t', '  ProxyCommand none', 'Host *', '  ProxyJump 192.0.2.9'], 't')).toEqual([]);
    expect(chain(['Host t', '  ProxyJump 192.0.2.9', '  ProxyCommand nc %h %p'], 't')).toEqual([`${me}@192.0.2.9:22`]);
    expect(chain(['Host t', '  ProxyJump none', 'Host *', '  ProxyJump 192.0.2.9'], 't')).toEqual([]);
  });
});

describe("the first jump host's own ProxyJump", () => {
  const config = ['Host bastion2', '  HostName 192.0.2.72', '  ProxyJump bastion1', 'Host bastion1', '  HostName 192.0.2.71', '  User jumper', 'Host x1', '  ProxyJump bastion2', 'Host x2', '  ProxyJump bastion2,192.0.2.73', 'Host x3', '  ProxyJump 192.0.2.74,bastion2'];

  it('is followed, recursively, for the first entry only (ssh -J a b overrides b)', () => {
    expect(chain(config, 'x1')).toEqual(['jumper@192.0.2.71:22', `${me}@192.0.2.72:22`]);
    expect(chain(config, 'x2')).toEqual(['jumper@192.0.2.71:22', `${me}@192.0.2.72:22`, `${me}@192.0.2.73:22`]);
    expect(chain(config, 'x3')).toEqual([`${me}@192.0.2.74:22`, `${me}@192.0.2.72:22`]);
  });

  it('refuses a jump host reached through a ProxyCommand, and a loop, at the line', () => {
    expect(() => resolve(['Host t', '  ProxyJump j', 'Host j', '  ProxyCommand nc %h %p'], 't')).toThrow(/config-\d+:4:3: ProxyCommand \(for jump host j\) is not supported/);
    expect(() => resolve(['Host t', '  ProxyJump a', 'Host a', '  ProxyJump b', 'Host b', '  ProxyJump a'], 't')).toThrow(/config-\d+:4:13: ProxyJump loop: a -> b -> a/);
  });
});
