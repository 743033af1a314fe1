import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';

// A real `sh -s` (dash) on this machine, its pipes standing in for an SSH channel's streams: what
// one shell does with script after script is the shell's, not ssh's.

export interface LocalChannel {
  readonly channel: ClientChannel;
  readonly child: ChildProcessWithoutNullStreams;
}

const children: ChildProcessWithoutNullStreams[] = [];

export function localChannel(): LocalChannel {
  const child = spawn('sh', ['-s'], { stdio: 'pipe', detached: true });
  children.push(child);
  const channel = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    write: (data: string) => child.stdin.write(data),
    end: () => child.stdin.end(),
    // ssh2's close() ends the channel at once, without an exit status; sshd hangs the session up.
    close: () => {
      process.kill(-(child.pid ?? 0), 'SIGHUP');
      closed = true;
      channel.emit('close', undefined, undefined);
    },
  });
  let closed = false;
  child.stdout.on('data', (chunk: Buffer) => channel.emit('data', chunk));
  child.stderr.on('data', (chunk: Buffer) => channel.stderr.emit('data', chunk));
  child.on('close', (code, signal) => closed || channel.emit('close', code ?? undefined, signal ?? undefined));
  return { channel: channel as unknown as ClientChannel, child };
}

/** Kill every shell localChannel started (each leads its own process group). */
export function endLocalChannels(): void {
  for (const child of children.splice(0)) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // Already gone with its group.
    }
  }
}
