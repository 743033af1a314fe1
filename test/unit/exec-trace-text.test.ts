import { describe, expect, it } from 'vitest';
import { renderExecTrace, renderSshTrace } from '../../src/report/exec-trace-text.js';

describe('-vv exec traces', () => {
  it('show the script, the exit status and each output, every line naming the host', () => {
    expect(renderExecTrace('rs1', { exec: 2, script: 'set -e\nip addr add 198.51.100.50/32 dev lo\n', result: { code: 1, stdout: 'a\n', stderr: 'RTNETLINK answers: File exists\n' } })).toEqual([
      'rs1: exec 2 script:',
      'rs1|   set -e',
      'rs1|   ip addr add 198.51.100.50/32 dev lo',
      'rs1: exec 2 exit status 1',
      'rs1: exec 2 stdout:',
      'rs1|   a',
      'rs1: exec 2 stderr:',
      'rs1|   RTNETLINK answers: File exists',
    ]);
  });

  it('leave out empty output, and say why an exec has no status', () => {
    expect(renderExecTrace('rs2', { exec: 1, script: 'true', result: { code: 0, stdout: '', stderr: '' } })).toEqual(['rs2: exec 1 script:', 'rs2|   true', 'rs2: exec 1 exit status 0']);
    expect(renderExecTrace('rs2', { exec: 1, script: 'true', error: new Error('the connection closed') })).toEqual(['rs2: exec 1 script:', 'rs2|   true', 'rs2: exec 1 failed: the connection closed']);
  });

  it("show a host's output with its control characters escaped: an escape sequence never reaches the terminal as a command", () => {
    const lines = renderExecTrace('rs3', { exec: 1, script: "tab='\t'", result: { code: 0, stdout: '\u001b]0;owned\u0007title\r\n', stderr: 'bell\u0007 \u202eevil\n' } });
    expect(lines).toEqual(["rs3: exec 1 script:", "rs3|   tab='\t'", 'rs3: exec 1 exit status 0', 'rs3: exec 1 stdout:', 'rs3|   \\e]0;owned\\x07title\\r', 'rs3: exec 1 stderr:', 'rs3|   bell\\x07 \\u202eevil']);
    expect(renderExecTrace('rs3', { exec: 1, script: 'true', error: new Error('banner \u001b[2J') }).at(-1)).toBe('rs3: exec 1 failed: banner \\e[2J');
    expect(renderSshTrace('rs3', 'Remote ident: SSH-2.0-x\u001b[8m')).toBe('rs3: ssh: Remote ident: SSH-2.0-x\\e[8m');
  });
});
