import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// ssh2 (1.17, the newest release) lacks OpenSSH certificates on both sides of a login: the host's
// (ssh2-host-certificates.ts) and the user's (ssh2-user-certificates.ts). Each is taught to it by
// editing a few lines of one of its files as Node's CommonJS loader reads them, before ssh2 first
// loads, and appending helpers in that file's own module scope. Each edit must match its text
// exactly as often as expected; if any edit of a file does not (another ssh2 version), that file is
// loaded as it is and the patch that needed it reports why, the other patches staying in force.

export interface SourceEdit {
  readonly find: string;
  readonly replace: string;
  /** How many times `find` occurs in the file. */
  readonly count: number;
}

export interface SourcePatch {
  /** The file, relative to ssh2's lib/ folder (`protocol/kex.js`). */
  readonly file: string;
  readonly edits: readonly SourceEdit[];
  /** Appended to the file; it must set `module.exports[marker] = true`, how a load is known to have used the edit. */
  readonly helpers: string;
  readonly marker: string;
}

export interface PatchResult {
  readonly active: boolean;
  /** Why the patch is not in force, when it is not. */
  readonly reason?: string;
}

/** The file's text with the edits, or why they do not apply to it. */
export function editedSource(source: string, patch: Pick<SourcePatch, 'file' | 'edits' | 'helpers'>): { text: string } | { reason: string } {
  let text = source;
  const name = patch.file.split('/').pop() ?? patch.file;
  for (const edit of patch.edits) {
    const found = text.split(edit.find).length - 1;
    if (found !== edit.count) return { reason: `its ${name} holds \`${edit.find.split('\n')[0]}\` ${found} times, not ${edit.count}` };
    text = text.split(edit.find).join(edit.replace);
  }
  return { text: `${text}\n${patch.helpers}` };
}

type CompileJs = (module: { _compile(code: string, filename: string): unknown }, filename: string) => unknown;

/**
 * Load ssh2 with each patch applied whose edits fit its source; `results` holds, per patch (in
 * order), whether it is in force and why not.
 */
export async function loadSsh2Patched<T>(load: () => Promise<T>, patches: readonly SourcePatch[]): Promise<{ ssh2: T; results: PatchResult[]; libDir?: string }> {
  const require = createRequire(import.meta.url);
  let libDir: string;
  let version: string;
  try {
    const packageJson = require.resolve('ssh2/package.json');
    libDir = join(dirname(packageJson), 'lib');
    version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  } catch (error) {
    const reason = `ssh2's files cannot be read: ${(error as Error).message}`;
    return { ssh2: await load(), results: patches.map(() => ({ active: false, reason })) };
  }
  const results: (PatchResult | undefined)[] = [];
  const texts = new Map<string, string>();
  patches.forEach((patch, index) => {
    const path = join(libDir, patch.file);
    const edited = editedSource(readFileSync(path, 'utf8'), patch);
    if ('reason' in edited) results[index] = { active: false, reason: `ssh2 ${version} is not the ssh2 lvsprov knows how to extend: ${edited.reason}` };
    else texts.set(path, edited.text);
  });
  // Node's CommonJS loader compiles each .js file through this table; ssh2's own requires of its
  // files come through here once, while ssh2 loads, and get the edited texts.
  const extensions = (require('node:module') as { _extensions: Record<string, CompileJs> })._extensions;
  const compileJs = extensions['.js'] as CompileJs;
  extensions['.js'] = (module, filename) => {
    const text = texts.get(filename);
    return text === undefined ? compileJs(module, filename) : module._compile(text, filename);
  };
  let ssh2: T;
  try {
    ssh2 = await load();
  } finally {
    extensions['.js'] = compileJs;
  }
  const settled = patches.map((patch, index): PatchResult => {
    const known = results[index];
    if (known) return known;
    const path = join(libDir, patch.file);
    const exports = require.cache[path]?.exports as Record<string, unknown> | undefined;
    return exports?.[patch.marker] === true ? { active: true } : { active: false, reason: `ssh2 ${version}'s ${patch.file} was loaded before lvsprov could extend it` };
  });
  return { ssh2, results: settled, libDir };
}
