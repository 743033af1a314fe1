import type { HostContext, ProbeOutput } from './types.js';

// The programs lvsprov's probes and changes run that a host may lack, each with the Debian package
// that ships it. A probe that finds one missing says so, and the host stops with the package to
// install: read as "nothing there", a missing ipvsadm would look like an empty IPVS table, and the
// plan's commands would then fail half-way through the apply.

const DEBIAN_PACKAGES = {
  ipvsadm: 'ipvsadm',
  'arptables-save': 'arptables',
  nft: 'nftables',
  ip: 'iproute2',
} as const;

export type Tool = keyof typeof DEBIAN_PACKAGES;

export function debianPackageOf(tool: Tool): string {
  return DEBIAN_PACKAGES[tool];
}

export function missingToolError(tool: Tool): Error {
  return new Error(`${tool} is not installed (Debian package: ${debianPackageOf(tool)})`);
}

/** Stops the host unless the tool is there, or an earlier task of this run installs its package. */
export function requireTool(tool: Tool, present: boolean, context: HostContext): void {
  if (!present && !context.installing?.has(debianPackageOf(tool))) throw missingToolError(tool);
}

const marker = (tool: Tool): string => `lvsprov-missing-tool ${tool}`;

/**
 * A probe that runs `body` only with `tool` on the PATH, and otherwise prints a marker. No `exit`:
 * the read script runs such a probe in its own shell, where an exit would end every probe after it.
 */
export function withTool(tool: Tool, body: string): string {
  return `if command -v ${tool} >/dev/null 2>&1; then\n${body}\nelse printf '%s\\n' '${marker(tool)}'; fi`;
}

/** For a probe made by withTool: throws the missing-tool error when the probe found none. */
export function throwIfToolMissing(output: ProbeOutput, tool: Tool): void {
  if (output.stdout.split('\n', 1)[0] === marker(tool)) throw missingToolError(tool);
}
