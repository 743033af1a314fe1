import { replaceFileChange, type FileState } from '../file-state.js';
import type { Change } from '../types.js';
import type { Table } from './model.js';
import { parseRules, renderRules } from './rules-format.js';
import type { IpvsSpec } from './schema.js';

// The file the distro restores the table from at boot. RHEL's ipvsadm.service runs
// `ipvsadm-restore < /etc/sysconfig/ipvsadm` (and saves over it on stop); Debian's
// /etc/init.d/ipvsadm pipes /etc/ipvsadm.rules through `grep -v "^#"` into `ipvsadm -R`.
// Both drop `#` lines, so a Debian file that starts with its stock `# ipvsadm.rules` comment
// still holds exactly the table it restores.

export const RHEL_SAVE_FILE = '/etc/sysconfig/ipvsadm';
export const DEBIAN_SAVE_FILE = '/etc/ipvsadm.rules';

/** os-release IDs that mark the RHEL family; Rocky, Alma, Oracle and Amazon name one of them in ID_LIKE. */
const RHEL_FAMILY = new Set(['rhel', 'fedora', 'centos']);

export interface OsRelease {
  readonly id: string;
  readonly idLike: readonly string[];
}

/** Every file the probe reads: both distro defaults, so any later task on the same host has them too. */
export function probedSaveFiles(spec: IpvsSpec): string[] {
  const defaults = [RHEL_SAVE_FILE, DEBIAN_SAVE_FILE];
  return spec.save_file === 'auto' || defaults.includes(spec.save_file) ? defaults : [...defaults, spec.save_file];
}

export function saveFilePath(spec: IpvsSpec, os: OsRelease): string {
  if (spec.save_file !== 'auto') return spec.save_file;
  return [os.id, ...os.idLike].some((id) => RHEL_FAMILY.has(id)) ? RHEL_SAVE_FILE : DEBIAN_SAVE_FILE;
}

/**
 * Whether a save file restores exactly `table`. Compared as tables, not text: ipvsadm's order
 * is not always well defined (see model.ts) and older ipvsadm prints tunnel servers without
 * --tun-type, yet `ipvsadm -S -n > file` on the host must count as in sync. A file this parser
 * cannot read is out of sync and gets rewritten, its old text shown in the diff.
 */
export function restoresTable(file: FileState, table: Table): boolean {
  if (!file.exists) return false;
  try {
    return renderRules(parseRules(file.content)) === renderRules(table);
  } catch {
    return false;
  }
}

export function saveFileChange(path: string, file: FileState, table: Table): Change | undefined {
  if (restoresTable(file, table)) return undefined;
  return replaceFileChange(path, file, renderRules(table), '644');
}

/** The file after saveFileChange's commands ran (or as it was, when it already restores the table). */
export function savedFile(file: FileState, table: Table): FileState {
  return restoresTable(file, table) ? file : { exists: true, content: renderRules(table), mode: '644' };
}
