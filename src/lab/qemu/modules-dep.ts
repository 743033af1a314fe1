// Reading a kernel's modules.dep: which file holds a module and what it needs loaded first.

export interface ModuleEntry {
  /** Path relative to lib/modules/<release>. */
  readonly path: string;
  readonly dependencies: readonly string[];
}

/** Module name from its file name; the kernel treats '-' and '_' in names alike. */
export function moduleName(path: string): string {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return file.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export function parseModulesDep(text: string): Map<string, ModuleEntry> {
  const modules = new Map<string, ModuleEntry>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const dependencies = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName);
    modules.set(moduleName(path), { path, dependencies });
  }
  return modules;
}

/**
 * The files to insmod, in order, for a list of modules a busybox init loads without modprobe.
 * Fails if a module is missing or would be loaded before something it depends on: a newer kernel
 * that changed its dependencies then breaks the build with a message, not the boot with a hang.
 */
export function resolveLoadOrder(
  wanted: readonly string[],
  modules: ReadonlyMap<string, ModuleEntry>,
  builtin: ReadonlySet<string>,
): Array<{ name: string; path: string }> {
  const loaded = new Set(builtin);
  const order: Array<{ name: string; path: string }> = [];
  for (const name of wanted) {
    if (builtin.has(name)) continue;
    const entry = modules.get(name);
    if (!entry) throw new Error(`kernel module ${name} is neither in modules.dep nor built in`);
    const missing = entry.dependencies.filter((dependency) => !loaded.has(dependency));
    if (missing.length > 0) throw new Error(`kernel module ${name} needs ${missing.join(', ')} loaded before it`);
    loaded.add(name);
    order.push({ name, path: entry.path });
  }
  return order;
}

/** Names from modules.builtin (one path per line). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter(Boolean).map(moduleName));
}
