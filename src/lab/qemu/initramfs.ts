import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { defaultCacheDir } from '../../cache-dir.js';
import { needsInterpreter } from './elf.js';
import { LabPrerequisiteError } from './errors.js';
import { initramfsApplets, initramfsInit } from './initramfs-init.js';
import type { CachedKernel } from './kernel.js';
import { initramfsModules } from './markers.js';
import { parseModulesBuiltin, parseModulesDep, resolveLoadOrder } from './modules-dep.js';
import { requireTool } from './tools.js';

// One small initramfs per kernel release (and per version of its init script): busybox, the
// modules needed to reach the 9p root, and /init. Built once into the cache, then reused.

async function staticBusybox(): Promise<string> {
  const busybox = requireTool('busybox', 'busybox-static');
  if (needsInterpreter(await readFile(busybox))) {
    throw new LabPrerequisiteError(
      `a statically linked busybox (${busybox} is dynamically linked)`,
      'apt-get install -y busybox-static',
    );
  }
  return busybox;
}

/** Every path under dir, relative and sorted, parents before children: the list cpio archives. */
async function archiveList(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return ['.', ...entries.map(String).sort()];
}

/** `cpio -o -H newc` fed the list on stdin, its output gzipped into target. */
async function writeCpioGz(cpio: string, dir: string, target: string): Promise<void> {
  const child = spawn(cpio, ['--quiet', '-o', '-H', 'newc', '-R', '0:0'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(`${(await archiveList(dir)).join('\n')}\n`);
  await pipeline(child.stdout, createGzip({ level: 9 }), createWriteStream(target));
  const code = await exited;
  if (code !== 0) throw new Error(`cpio exited ${code}: ${stderr.trim()}`);
}

export interface EnsureInitramfsOptions {
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/** Path of the cached initramfs for this kernel, building it first if needed. */
export async function ensureInitramfs(kernel: CachedKernel, options: EnsureInitramfsOptions = {}): Promise<string> {
  const modules = parseModulesDep(await readFile(join(kernel.modulesDir, 'modules.dep'), 'utf8'));
  const builtinFile = join(kernel.modulesDir, 'modules.builtin');
  const builtin = parseModulesBuiltin(existsSync(builtinFile) ? await readFile(builtinFile, 'utf8') : '');
  const order = resolveLoadOrder(initramfsModules, modules, builtin);
  const files = order.map((module) => `${module.name}.ko`);
  const init = initramfsInit(files);
  // The name carries a digest of the init script, so changing the script rebuilds the image.
  const digest = createHash('sha256').update(init).digest('hex').slice(0, 12);
  const dir = join(options.cacheDir ?? defaultCacheDir(), 'initramfs');
  const target = join(dir, `initramfs-${kernel.release}-${digest}.cpio.gz`);
  if (existsSync(target)) return target;

  const cpio = requireTool('cpio', 'cpio');
  const busybox = await staticBusybox();
  options.log?.(`building ${target}`);
  await mkdir(dir, { recursive: true });
  const staging = await mkdtemp(join(dir, '.staging-'));
  try {
    const root = join(staging, 'root');
    for (const sub of ['bin', 'dev', 'proc', 'modules']) await mkdir(join(root, sub), { recursive: true });
    await copyFile(busybox, join(root, 'bin', 'busybox'));
    await chmod(join(root, 'bin', 'busybox'), 0o755);
    for (const applet of initramfsApplets) await symlink('busybox', join(root, 'bin', applet));
    for (const module of order) {
      if (!module.path.endsWith('.ko')) throw new Error(`${module.path}: compressed modules are not supported`);
      await copyFile(join(kernel.modulesDir, module.path), join(root, 'modules', `${module.name}.ko`));
    }
    await writeFile(join(root, 'init'), init, { mode: 0o755 });
    const partial = join(staging, 'initramfs.cpio.gz');
    await writeCpioGz(cpio, root, partial);
    await rename(partial, target);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return target;
}
