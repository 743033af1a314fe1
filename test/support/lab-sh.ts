import type { Lab } from '../../src/lab/netns/index.js';

/** Run a shell script inside a lab host (nsenter, not SSH); its stdout, or an error with its output. */
export async function labSh(lab: Lab, host: string, script: string): Promise<string> {
  const result = await lab.exec(host, ['sh', '-c', script]);
  if (result.code !== 0) throw new Error(`${host}: ${script}: exit ${result.code}: ${result.stderr}`);
  return result.stdout;
}
