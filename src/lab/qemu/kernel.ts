import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultCacheDir } from '../../cache-dir.js';
import { LabPrerequisiteError } from './errors.js';
import { isKernelPackageName, parseImageDependency, pickRelease } from './kernel-package.js';
import { run, runChecked } from './run.js';
import { findExecutable, requireTool } from './tools.js';

// Debian's kernel has IPVS, IPIP, 9p and virtio as modules, unlike the machine's own kernel. It is
// downloaded once, unpacked and depmod'ed into the cache; later calls only read the cache.

export const kernelMetapackage = 'linux-image-amd64';

export interface CachedKernel {
  /** Exact package, e.g. linux-image-6.1.0-56-amd64. */
  readonly packageName: string;
  /** Kernel release, e.g. 6.1.0-56-amd64. */
  readonly release: string;
  /** The unpacked package root; lib/modules/<release> inside it carries modules.dep. */
  readonly root: string;
  readonly vmlinuz: string;
  readonly modulesDir: string;
}

interface KernelMeta {
  readonly packageName: string;
  readonly release: string;
}

export interface EnsureKernelOptions {
  readonly cacheDir?: string;
  /** Pin an exact package instead of asking apt which one the metapackage points at. */
  readonly packageName?: string;
  readonly log?: (line: string) => void;
}

function describe(dir: string, meta: KernelMeta): CachedKernel {
  const root = join(dir, 'root');
  return {
    ...meta,
    root,
    vmlinuz: join(root, 'boot', `vmlinuz-${meta.release}`),
    modulesDir: join(root, 'lib', 'modules', meta.release),
  };
}

async function readCached(dir: string): Promise<CachedKernel | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'kernel.json'), 'utf8')) as KernelMeta;
    const kernel = describe(dir, meta);
    return existsSync(kernel.vmlinuz) && existsSync(join(kernel.modulesDir, 'modules.dep')) ? kernel : undefined;
  } catch {
    return undefined;
  }
}

/** Any complete kernel already in the cache, the highest version first. */
async function anyCached(kernelsDir: string): Promise<CachedKernel | undefined> {
  const names = existsSync(kernelsDir) ? (await readdir(kernelsDir)).filter(isKernelPackageName) : [];
  names.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  for (const name of names) {
    const kernel = await readCached(join(kernelsDir, name));
    if (kernel) return kernel;
  }
  return undefined;
}

/** Ask apt (a local lookup, no network) which exact image the metapackage depends on. */
async function resolvePackageName(): Promise<string | { problem: string }> {
  const aptCache = findExecutable('apt-cache');
  if (!aptCache) return { problem: 'apt-cache is not installed (Debian package apt)' };
  const result = await run([aptCache, 'depends', kernelMetapackage], { timeoutMs: 60_000 });
  const name = result.code === 0 ? parseImageDependency(result.stdout) : undefined;
  if (name) return name;
  return {
    problem: `apt-cache depends ${kernelMetapackage} named no kernel image (${result.stderr.trim() || 'no Depends line'}); run apt-get update`,
  };
}

async function download(packageName: string, kernelsDir: string, log: (line: string) => void): Promise<CachedKernel> {
  const aptGet = requireTool('apt-get', 'apt');
  const dpkgDeb = requireTool('dpkg-deb', 'dpkg');
  const depmod = requireTool('depmod', 'kmod');
  await mkdir(kernelsDir, { recursive: true });
  // Built beside its final place and renamed in one step, so a crash or a concurrent run never
  // leaves a half-unpacked kernel that looks complete.
  const staging = await mkdtemp(join(kernelsDir, `.${packageName}-`));
  try {
    log(`downloading ${packageName} (about 70 MB, once)`);
    const fetched = await run([aptGet, 'download', packageName], { cwd: staging, timeoutMs: 15 * 60_000 });
    const debs = (await readdir(staging)).filter((name) => name.endsWith('.deb'));
    const deb = debs[0];
    if (fetched.code !== 0 || deb === undefined) {
      throw new LabPrerequisiteError(
        `kernel package ${packageName}`,
        `apt-get download ${packageName} failed (${fetched.stderr.trim()}); check the apt sources, then run apt-get update`,
      );
    }
    const root = join(staging, 'root');
    await runChecked([dpkgDeb, '-x', join(staging, deb), root], { timeoutMs: 10 * 60_000 });
    await rm(join(staging, deb));
    const release = pickRelease(await readdir(join(root, 'lib', 'modules')));
    log(`depmod ${release}`);
    await runChecked([depmod, '-b', root, release], { timeoutMs: 10 * 60_000 });
    const meta: KernelMeta = { packageName, release };
    await writeFile(join(staging, 'kernel.json'), `${JSON.stringify(meta, null, 2)}\n`);
    const target = join(kernelsDir, packageName);
    try {
      await rename(staging, target);
    } catch (error) {
      const winner = await readCached(target);
      if (!winner) throw error;
      log(`another run cached ${packageName} first; using it`);
      await rm(staging, { recursive: true, force: true });
      return winner;
    }
    const kernel = await readCached(target);
    if (!kernel) throw new Error(`${packageName} unpacked into ${target} but has no vmlinuz or modules.dep`);
    return kernel;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A Debian kernel, unpacked and depmod'ed, from the cache or downloaded into it. The package is
 * the one apt currently names for linux-image-amd64; if apt cannot say, any cached kernel serves.
 */
export async function ensureKernel(options: EnsureKernelOptions = {}): Promise<CachedKernel> {
  const log = options.log ?? (() => undefined);
  const kernelsDir = join(options.cacheDir ?? defaultCacheDir(), 'kernels');
  const wanted = options.packageName ?? (await resolvePackageName());
  if (typeof wanted !== 'string') {
    const fallback = await anyCached(kernelsDir);
    if (fallback) return fallback;
    throw new LabPrerequisiteError(`a Debian kernel (${kernelMetapackage})`, wanted.problem);
  }
  if (!isKernelPackageName(wanted)) throw new Error(`not a kernel image package name: ${JSON.stringify(wanted)}`);
  return (await readCached(join(kernelsDir, wanted))) ?? download(wanted, kernelsDir, log);
}
