import { readFileSync } from 'node:fs';

// Where a `node --cpu-prof` profile spent its time: self time by package (node_modules/<name>,
// lvsprov's own dist/<dir>, node internals, GC, idle) and by function.
//   node dist-bench/bench/src/cpu-profile.js PROFILE.cpuprofile [--top N]

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const own = /\/dist\/([^/]+)\//.exec(url);
  if (own) return `lvsprov ${own[1]}`;
  return url.replace(/^file:\/\//, '');
}

export interface ProfileSummary {
  readonly wallMs: number;
  readonly byArea: ReadonlyArray<readonly [string, number]>;
  readonly byFunction: ReadonlyArray<readonly [string, number]>;
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const areaMs = new Map<string, number>();
  const functionMs = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    // timeDeltas[i] is the time since the previous sample: it belongs to sample i.
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const frame = nodes.get(id)?.callFrame;
    if (!frame) return;
    const where = area(frame.url, frame.functionName);
    areaMs.set(where, (areaMs.get(where) ?? 0) + ms);
    const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functionMs.set(name, (functionMs.get(name) ?? 0) + ms);
  });
  const sorted = (map: Map<string, number>): Array<readonly [string, number]> => [...map].sort((a, b) => b[1] - a[1]);
  return { wallMs: (profile.endTime - profile.startTime) / 1000, byArea: sorted(areaMs), byFunction: sorted(functionMs) };
}

function render(file: string, summary: ProfileSummary, top: number): string {
  const line = ([name, ms]: readonly [string, number]): string => `  ${ms.toFixed(0).padStart(7)} ms  ${((ms / summary.wallMs) * 100).toFixed(1).padStart(5)}%  ${name}`;
  return [`${file}: ${summary.wallMs.toFixed(0)} ms profiled`, 'self time by area:', ...summary.byArea.slice(0, top).map(line), 'self time by function:', ...summary.byFunction.slice(0, top).map(line)].join('\n');
}

if (process.argv[1]?.endsWith('cpu-profile.js')) {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 25;
  for (const file of args) {
    process.stdout.write(`${render(file, summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile), top)}\n\n`);
  }
}
