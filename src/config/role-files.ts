import { realpathSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { yamlLimits } from './yaml-limits.js';

// A role's own files - tasks.yaml, role.yaml, each template - are read as files of that role. A
// pipe or a device there would make lvsprov wait for ever (a FIFO with no writer) or read without
// end, a folder cannot be read at all, and a symbolic link leading out of the role's folder would
// read, and show in its errors, any file of the operator's machine (tasks.yaml -> /etc/shadow).
// The role's folder itself may be a link (a role shared between playbooks); its files stay in it.

/** Why `file` cannot be one of the role's files, or undefined when it can. */
export function roleFileProblem(roleDir: string, file: string): string | undefined {
  const stat = statSync(file);
  if (stat.isDirectory()) return `${file} is a folder, not a file`;
  if (!stat.isFile()) return `${file} is not a regular file (a pipe, a device or a socket), which lvsprov would wait on or read without end`;
  // Read whole into memory (and a template written to every host): the bound of every YAML file.
  if (stat.size > yamlLimits.maxBytes) return `${file} is larger than ${yamlLimits.maxBytes / (1024 * 1024)} MB, the most lvsprov reads from one file of a role; check that it is the right file`;
  const real = realpathSync(file);
  const folder = realpathSync(roleDir);
  if (!real.startsWith(folder + sep)) {
    const where = relative(folder, real);
    return `${file} leads out of the role's folder (to ${where.startsWith('..') ? real : where}); a role's files must be inside its folder`;
  }
  return undefined;
}
