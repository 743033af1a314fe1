import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editedSource } from '../../src/transport/ssh2-source-edits.js';
import { enableUserCertificates, userCertificatePatches, userCertificateSupport } from '../../src/transport/ssh2-user-certificates.js';

const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve('ssh2/package.json')), 'lib');
const [protocol, agent] = userCertificatePatches;
const source = (file: string): string => readFileSync(join(lib, file), 'utf8');

describe('the user certificate edits of ssh2', () => {
  it('fit the installed ssh2: authPK sends a certificate under its algorithm and signs under the plain one', () => {
    if (!protocol) throw new Error('no Protocol.js patch');
    const edited = editedSource(source(protocol.file), protocol);
    if (!('text' in edited)) throw new Error(edited.reason);
    expect(edited.text).toContain('if (lvsprovIsCertificate(pubKey))\n      keyAlgo = lvsprovCertificateAlgorithm(keyAlgo);');
    expect(edited.text).toContain('packet.utf8Write(sigAlgo, p += 4, sigAlgoLen);');
    // authHostbased is left as it was.
    expect(edited.text.split('packet.utf8Write(keyAlgo, p += 4, algoLen);').length - 1).toBe(3);
    expect(edited.text).toMatch(/module\.exports\.lvsprovUserCertificates = true;\n$/);
  });

  it('fit the installed ssh2: the agent client keeps the certificates an agent lists', () => {
    if (!agent) throw new Error('no agent.js patch');
    const edited = editedSource(source(agent.file), agent);
    if (!('text' in edited)) throw new Error(edited.reason);
    expect(edited.text).toContain('pubKey = lvsprovParseIdentity(parseKey, pubKey);');
  });

  it('edit nothing where a line is not found as often as expected, and say which', () => {
    if (!protocol) throw new Error('no Protocol.js patch');
    const changed = source(protocol.file).replace('packet.utf8Write(keyAlgo, p += 4, algoLen);\n\n      writeUInt32BE(packet, sigLen', 'packet.write(keyAlgo);\n\n      writeUInt32BE(packet, sigLen');
    expect(editedSource(changed, protocol)).toEqual({ reason: 'its Protocol.js holds `      writeUInt32BE(packet, 4 + algoLen + 4 + sigLen, p += pubKeyLen);` 0 times, not 1' });
  });

  it('are in force only when both files were edited', () => {
    enableUserCertificates([{ active: true }, { active: false, reason: 'its agent.js holds x 0 times, not 1' }]);
    expect(userCertificateSupport.current).toEqual({ active: false, reason: 'its agent.js holds x 0 times, not 1' });
    enableUserCertificates([{ active: true }]);
    expect(userCertificateSupport.current.active).toBe(false);
    enableUserCertificates([{ active: true }, { active: true }]);
    expect(userCertificateSupport.current).toEqual({ active: true });
  });
});
