import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * An ssh-agent of the test's own on `socket` (foreground, so the test stops it by its pid), once
 * its socket exists, holding `keys`; throws with ssh-add's message when a key cannot be added.
 */
export async function startAgent(socket: string, keys: readonly string[]): Promise<ChildProcess> {
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  for (let i = 0; i < 50 && spawnSync('test', ['-S', socket]).status !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const add = spawnSync('ssh-add', [...keys], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });
  if (add.status !== 0) {
    if (agent.pid) process.kill(agent.pid, 'SIGTERM');
    throw new Error(`ssh-add ${keys.join(' ')} failed (${add.status}): ${add.stderr}`);
  }
  return agent;
}
