import { chmod, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { GraphFormat } from '../graph/format-names.js';
import { renderGraph } from '../graph/formats.js';
import type { LiveLinks } from '../graph/live.js';
import type { Topology } from '../graph/topology.js';
import type { CliIo } from './io.js';

// graph and status --graph write the picture the same way: to stdout, or atomically to a file
// (so a browser or editor watching it never reads half a picture during status --watch). What -o
// names is written as a shell's `>` would write it: a symbolic link's target (the link stays), and
// a device or FIFO (/dev/stdout, a pipe) directly, never replaced by a file.

export async function emitGraph(io: CliIo, topology: Topology, format: GraphFormat, output: string | undefined, live?: LiveLinks): Promise<void> {
  const { text, warnings } = await renderGraph(topology, format, live);
  for (const warning of warnings) io.err(`graphviz: ${warning}`);
  if (output === undefined || output === '-') {
    io.out(text.replace(/\n$/, ''));
    return;
  }
  let temporary: string | undefined;
  try {
    const target = await writtenPath(output);
    const info = await stat(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (info?.isDirectory()) throw new Error('EISDIR: it is a folder');
    if (info !== undefined && !info.isFile()) {
      await writeFile(target, text);
      return;
    }
    // A name of its own, created exclusively: nothing another user left at a known name is followed
    // (node:crypto for a random name would cost graph's start the module).
    temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    await writeFile(temporary, text, { flag: 'wx' });
    if (info !== undefined) await chmod(temporary, info.mode & 0o7777);
    await rename(temporary, target);
  } catch (error) {
    // A folder that is not there, a folder in place of the file, no permission: the operator's
    // -o, said as such (exit 4), never an internal error; no temp file left behind.
    if (temporary !== undefined) await rm(temporary, { force: true }).catch(() => undefined);
    throw new UsageError(`-o ${output}: cannot write the picture there: ${(error as Error).message}`);
  }
}

/**
 * The file a shell's `>` would write for `path`: where its symbolic links lead, a link whose
 * target is not there yet included (`>` creates the target and the link stays), else the path.
 */
async function writtenPath(path: string): Promise<string> {
  let current = path;
  // As many links as the kernel follows (MAXSYMLINKS) before it says ELOOP.
  for (let links = 0; links <= 40; links++) {
    const real = await realpath(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (real !== undefined) return real;
    const link = await readlink(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EINVAL') return undefined;
      throw error;
    });
    if (link === undefined) return current;
    current = resolve(dirname(current), link);
  }
  throw new Error('ELOOP: too many symbolic links');
}
