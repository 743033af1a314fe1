import { describe, expect, it } from 'vitest';
import { editDistance, listNames, nearestNames, suggestion } from '../../src/config/suggest.js';

describe('editDistance (optimal string alignment)', () => {
  it.each([
    ['address', 'address', 0],
    ['adress', 'address', 1],
    ['adderss', 'address', 1],
    ['wieght', 'weight', 1],
    ['Weight', 'weight', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
    ['realserver', 'realservers', 1],
  ])('%s -> %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('nearestNames', () => {
  const keys = ['address', 'ssh', 'groups', 'vars'];

  it('finds a misspelt key, nearest first', () => {
    expect(nearestNames('adress', keys)).toEqual(['address']);
    expect(nearestNames('group', keys)).toEqual(['groups']);
    expect(nearestNames('port', ['sort', 'port', 'ports', 'prot'])).toEqual(['sort', 'ports', 'prot']);
  });

  it('suggests nothing for a name that is merely short and different', () => {
    expect(nearestNames('vip', keys)).toEqual([]);
    expect(nearestNames('x', ['ab', 'cd'])).toEqual([]);
    expect(nearestNames('completely_else', keys)).toEqual([]);
  });

  it('never suggests the name itself, and honours the limit', () => {
    expect(nearestNames('ssh', keys)).toEqual([]);
    expect(nearestNames('wrx', ['wrr', 'wlc', 'wrx', 'wr', 'wrz'], 2)).toEqual(['wrr', 'wr']);
  });
});

describe('suggestion', () => {
  it('says what was probably meant and what exists', () => {
    expect(suggestion('adress', ['address', 'ssh', 'groups', 'vars'])).toBe('; did you mean `address`? (known: address, ssh, groups, vars)');
    expect(suggestion('adress', ['address'], ': ')).toBe(': did you mean `address`? (known: address)');
  });

  it('lists what exists when nothing is close, after a space: never a bare "; " or ": " before the list', () => {
    expect(suggestion('zzz', ['address', 'ssh'])).toBe(' (known: address, ssh)');
    expect(suggestion('zzz', [], ': ')).toBe(' (known: none)');
  });

  it('keeps a long list short', () => {
    const names = Array.from({ length: 25 }, (_, i) => `host${i}`);
    expect(listNames(names)).toBe(`${names.slice(0, 20).join(', ')} and 5 more`);
  });
});
