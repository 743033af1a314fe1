import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDebianHostKeys } from '../../bench/src/debian-host-keys.js';
import { lvsprovInventory, writeYaml } from '../../bench/src/inventories.js';
import { lvsprovPlaybook } from '../../bench/src/lvsprov-contender.js';
import { SshdLogs } from '../../bench/src/sshd-logs.js';
import { createLab, flatLabSpec, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';

// A host with Debian's three host keys announces all of them after every login
// (hostkeys-00@openssh.com). lvsprov declines to have them proven: the host would sign with each
// key, the RSA one costliest, on every connection of every run. Seen from the host's own sshd,
// at DEBUG3: the announcement goes out on lvsprov's connection, and no proof request comes back,
// only the SSH_MSG_IGNORE that acknowledges it at once (host-key-proofs.ts says why);
// OpenSSH's client with UpdateHostKeys, on the same host, does ask (so the log would show it).

const availability = labAvailability();
const announced = /notify_hostkeys: sent 3 hostkeys/g;
const proofAsked = /server_input_global_request: rtype hostkeys-prove-00@openssh\.com/g;
const ignored = /Received SSH2_MSG_IGNORE/g;
const count = (text: string, pattern: RegExp): number => [...text.matchAll(pattern)].length;

describe.skipIf(skipLabSuite(availability))(`host key announcements on real sshd (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;
  let logs: SshdLogs;
  let host: string;

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-host-key-proofs-'));
    lab = await createLab(flatLabSpec('ithk', 1), join(dir, 'lab'));
    host = lab.hosts[0]?.name as string;
    await addDebianHostKeys(lab);
    logs = await SshdLogs.enable(lab, { LogLevel: 'DEBUG3' });
    inventory = await writeYaml(dir, 'inventory.yaml', lvsprovInventory(lab));
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  const logSince = async (mark: Awaited<ReturnType<SshdLogs['mark']>>): Promise<string> => (await logs.textSince(mark)).get(host) ?? '';

  it('lvsprov is told of three host keys, asks the host to prove none, and acknowledges at once with an ignored message', async () => {
    const mark = await logs.mark();
    const result = await runCli(['apply', '-i', inventory, '-p', lvsprovPlaybook, '--check', '--json'], { namespace: lab.controlNamespace });
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result).hosts.map((entry) => entry.stats.connections)).toEqual([1]);
    const text = await logSince(mark);
    expect({ announced: count(text, announced), proofAsked: count(text, proofAsked), ignored: count(text, ignored) }).toEqual({ announced: 1, proofAsked: 0, ignored: 1 });
  });

  it("OpenSSH's client updating its known_hosts does ask, so the log shows a proof request when one is made", async () => {
    const mark = await logs.mark();
    const [ssh, ...rest] = lab.sshArgv(host, ['true']);
    const result = await lab.runInControl([ssh as string, '-o', 'UpdateHostKeys=yes', ...rest]);
    expect(result.code, result.stderr).toBe(0);
    const text = await logSince(mark);
    expect({ announced: count(text, announced), proofAsked: count(text, proofAsked) }).toEqual({ announced: 1, proofAsked: 1 });
  });
});
