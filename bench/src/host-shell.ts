import type { Lab } from '../../src/lab/netns/index.js';

// sshd runs every exec through the user's login shell, and Debian's bash sources ~/.bashrc when
// sshd starts it, interactive or not. Lab hosts see this machine's /root through their overlay,
// and its .bashrc runs `pyenv init` unconditionally: about 130 ms of CPU per SSH exec, measured
// from sshd's own CPU accounting, against about 4 ms with a stock .bashrc. A production host does
// not pay that, and it would charge every tool per exec (Ansible 13-15 times per host), so each
// host gets Debian's stock /etc/skel/.bashrc, which returns at once when not interactive. Written
// inside the host's overlay: the machine's own file is not touched.

export async function useStockBashrc(lab: Lab): Promise<void> {
  const results = await Promise.all(lab.hosts.map((host) => lab.exec(host.name, ['cp', '/etc/skel/.bashrc', '/root/.bashrc'])));
  const failed = results.map((result, index) => (result.code === 0 ? undefined : `${lab.hosts[index]?.name}: ${result.stderr.trim()}`)).filter(Boolean);
  if (failed.length > 0) throw new Error(`replacing root's .bashrc failed: ${failed.join('; ')}`);
}
