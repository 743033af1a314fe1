import { describe, expect, it } from 'vitest';
import { passwdHomes, sshTildeParts } from '../../src/config/ssh-tilde.js';

// ssh's tilde_expand, with a password database given here.

const homes = passwdHomes(['root:x:0:0:root:/root:/bin/bash', '# a comment:x:1:1::/c:/bin/sh', 'deploy:x:1000:1000::/home/deploy/:/bin/sh', 'deploy:x:1001:1001::/second:/bin/sh', 'short:x:1'].join('\n'));

describe("ssh's tilde expansion", () => {
  it.each([
    ['/etc/ssh/known', { home: '', rest: '/etc/ssh/known' }],
    ['relative/~x', { home: '', rest: 'relative/~x' }],
    ['~', { home: '/home/me/', rest: '' }],
    ['~/', { home: '/home/me/', rest: '' }],
    ['~//kh', { home: '/home/me/', rest: 'kh' }],
    ['~/.ssh/known_hosts', { home: '/home/me/', rest: '.ssh/known_hosts' }],
    ['~root', { home: '/root/', rest: '' }],
    ['~root/kh', { home: '/root/', rest: 'kh' }],
    ['~deploy//id', { home: '/home/deploy/', rest: 'id' }],
    ['~nobody/x', { unknownUser: 'nobody' }],
    ['~short/x', { unknownUser: 'short' }],
  ])('%s', (path, expected) => {
    expect(sshTildeParts(path, '/home/me', (user) => homes.get(user))).toEqual(expected);
  });
});
