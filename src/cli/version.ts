import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/roles.js';

/** The version npm installed, read from the package's own package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
