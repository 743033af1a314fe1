// ansible-playbook's PLAY RECAP, one line per host:
//   h1                         : ok=9    changed=9    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0

export interface RecapLine {
  readonly host: string;
  readonly ok: number;
  readonly changed: number;
  readonly unreachable: number;
  readonly failed: number;
}

export function parseRecap(output: string): RecapLine[] {
  const start = output.lastIndexOf('PLAY RECAP');
  if (start < 0) return [];
  const lines: RecapLine[] = [];
  for (const line of output.slice(start).split('\n')) {
    const match = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(line);
    if (match) {
      lines.push({ host: match[1] as string, ok: Number(match[2]), changed: Number(match[3]), unreachable: Number(match[4]), failed: Number(match[5]) });
    }
  }
  return lines;
}
