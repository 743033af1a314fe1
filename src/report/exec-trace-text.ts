import type { ExecTrace } from '../transport/types.js';
import { escapeControls } from './safe-text.js';

// -vv: each script a host runs over SSH, then how it ended and what it printed, as Ansible's -vvv
// shows each module's command and result. Every line names the host, so the parallel hosts'
// lines can be told apart (and grepped) however they interleave. What the host printed is shown
// with its control characters escaped (safe-text.ts): a host's output reaches the operator's
// terminal, where an escape sequence would be a command. The script is lvsprov's own.

function block(host: string, title: string, text: string, show: (line: string) => string = (line) => line): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return [`${host}: ${title}`, ...lines.map((line) => `${host}|   ${show(line)}`)];
}

/** The lines that show one exec of `host`: its script, then its exit status and output, or why it has none. */
export function renderExecTrace(host: string, trace: ExecTrace): string[] {
  const name = `exec ${trace.exec}`;
  const lines = block(host, `${name} script:`, trace.script);
  if (trace.error !== undefined) return [...lines, `${host}: ${name} failed: ${escapeControls(trace.error.message)}`];
  const { code, stdout, stderr } = trace.result ?? { code: -1, stdout: '', stderr: '' };
  lines.push(`${host}: ${name} exit status ${code}`);
  if (stdout !== '') lines.push(...block(host, `${name} stdout:`, stdout, escapeControls));
  if (stderr !== '') lines.push(...block(host, `${name} stderr:`, stderr, escapeControls));
  return lines;
}

/** -vvv: one line of ssh2's account of a connection, which carries what the server sent (its banner, its algorithms). */
export function renderSshTrace(host: string, message: string): string {
  return `${host}: ssh: ${escapeControls(message)}`;
}
