import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { atBoot, initScript, systemdUnit } from '../../src/resources/at-boot.js';

// What the fixtures (test/fixtures/resources/at_boot) cannot say: hosts the hook cannot be
// installed on are refused with the reason, and the init script is a script sh accepts.

const spec = atBoot.schema.parse({ name: 'lvsprov-arptables', description: 'ARP suppression', command: ['/usr/sbin/arptables-restore'], input: '/etc/arptables.rules' });
const host = { host: 'rs1' };
const facts = (stdout: string) => atBoot.parse({ stdout, status: 0 }, spec);

describe('at_boot', () => {
  it('refuses a host with neither systemd nor /etc/init.d', () => {
    expect(() => atBoot.plan(spec, facts('D none\n'), host)).toThrow('cannot run lvsprov-arptables at boot on rs1: neither systemd nor /etc/init.d found');
  });

  it('refuses a sysvinit host without update-rc.d rather than leave a script nothing runs', () => {
    expect(() => atBoot.plan(spec, facts('D sysv\nE disabled\nT none\nF-\n'), host)).toThrow('sysvinit without update-rc.d');
  });

  it('the init script is valid sh and skips a missing save file', () => {
    const script = initScript(spec);
    const check = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(script).toContain('[ -s /etc/arptables.rules ] || exit 0\n    exec /usr/sbin/arptables-restore < /etc/arptables.rules');
  });

  it('the unit feeds the save file on stdin and is skipped while it is empty', () => {
    const unit = systemdUnit(spec);
    expect(unit).toContain('ConditionFileNotEmpty=/etc/arptables.rules\n');
    expect(unit).toContain('StandardInput=file:/etc/arptables.rules\nExecStart=/usr/sbin/arptables-restore\n');
    expect(unit).toContain('Before=network-pre.target');
  });
});
