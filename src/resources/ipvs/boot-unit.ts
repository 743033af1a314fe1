import type { Change } from '../types.js';
import type { IpvsFacts } from './probe.js';
import { RHEL_SAVE_FILE } from './save-file.js';

// RHEL's ipvsadm package ships ipvsadm.service, which restores /etc/sysconfig/ipvsadm at boot
// (and saves the table over it at shutdown), but leaves it disabled: without enabling it, the
// table a director was given is gone after a reboot. Debian's init script needs no enabling
// (its package links it; the director role turns on its AUTO restore in /etc/default/ipvsadm).

/** The answers after which lvsprov enables the unit; `masked` and the like are an operator's choice. */
function wantsEnabling(facts: IpvsFacts): boolean {
  if (facts.bootUnit === 'disabled') return true;
  // Not known to systemd yet: only because the package is not installed yet (a package task of
  // this run installs it before the enable runs); otherwise this host has no such unit at all.
  return facts.bootUnit === '' && facts.ipvs.state === 'no-ipvsadm';
}

export function bootUnitChange(facts: IpvsFacts, savePath: string): Change | undefined {
  if (facts.bootUnit === undefined || savePath !== RHEL_SAVE_FILE || !wantsEnabling(facts)) return undefined;
  return {
    resource: 'service ipvsadm',
    summary: `enable ipvsadm.service at boot (restores ${RHEL_SAVE_FILE})`,
    diff: { kind: 'value', before: facts.bootUnit || 'not installed', after: 'enabled' },
    commands: ['systemctl enable --quiet ipvsadm.service'],
  };
}

export function afterBootUnit(facts: IpvsFacts, savePath: string): IpvsFacts {
  return bootUnitChange(facts, savePath) ? { ...facts, bootUnit: 'enabled' } : facts;
}

/**
 * Reset: once no service is left and the save file goes, the unit would fail at every boot on
 * the missing file, so it goes back to the package's default, disabled.
 */
export function resetBootUnitChange(facts: IpvsFacts, savePath: string, tableLeft: number): Change | undefined {
  if (facts.bootUnit !== 'enabled' || savePath !== RHEL_SAVE_FILE || tableLeft > 0) return undefined;
  return {
    resource: 'service ipvsadm',
    summary: 'disable ipvsadm.service at boot (no table left to restore)',
    diff: { kind: 'value', before: 'enabled', after: 'disabled' },
    commands: ['systemctl disable --quiet ipvsadm.service'],
  };
}
