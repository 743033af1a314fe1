import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LabPrerequisiteError } from './errors.js';

// The sbin directories are searched too: a non-root PATH often lacks them, and the error for a
// tool that is installed but off PATH would otherwise send the user to install it again.
const extraDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable, or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Absolute path of a tool, or a prerequisite error naming the Debian package that ships it. */
export function requireTool(name: string, aptPackage: string): string {
  const found = findExecutable(name);
  if (!found) throw new LabPrerequisiteError(`${name} (Debian package ${aptPackage})`, `apt-get install -y ${aptPackage}`);
  return found;
}

/** The qemu lab starts guests with root-only features (9p passthrough of /, sysrq, namespaces). */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new LabPrerequisiteError('root', 'the qemu lab shares / with passthrough permissions and must run as root');
  }
}
