import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../src/cli/main.js';

// The bad-input corpus: one folder per case under test/fixtures/bad-input/<family>/<case>/, holding
// the files the case needs (inventory.yaml, playbook.yaml, roles/...) and case.yaml, which marks
// the offending place and what must be said there:
//
//   why: a sentence on what the case shows
//   file: inventory.yaml          # the file the error must point into (relative to the case folder)
//   line: 7                       # the offending line
//   col: 12                       # optional: the exact column
//   message: 'expected an integer' # a regular expression the message must match
//   args: [validate, -i, inventory.yaml]   # optional; default: validate -i inventory.yaml [-p playbook.yaml]
//
// Every case must end in exit 4 with `file:line:col: ...message` on stderr, and never an internal
// error. Arguments naming a file of the case folder are passed as absolute paths.

const root = join(import.meta.dirname, '../fixtures/bad-input');
const MINIMUM_CASES = 300;

interface CaseSpec {
  readonly why: string;
  readonly file: string;
  readonly line: number;
  readonly col?: number;
  readonly message: string;
  readonly args?: readonly string[];
}

interface Case {
  readonly id: string;
  readonly dir: string;
  readonly spec: CaseSpec;
}

function corpus(): Case[] {
  const cases: Case[] = [];
  for (const family of readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
    for (const entry of readdirSync(join(root, family.name), { withFileTypes: true }).filter((item) => item.isDirectory())) {
      const dir = join(root, family.name, entry.name);
      cases.push({ id: `${family.name}/${entry.name}`, dir, spec: parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) as CaseSpec });
    }
  }
  return cases.sort((a, b) => a.id.localeCompare(b.id));
}

function argsOf(item: Case): string[] {
  const defaults = ['validate', '-i', 'inventory.yaml', ...(existsSync(join(item.dir, 'playbook.yaml')) ? ['-p', 'playbook.yaml'] : [])];
  return (item.spec.args ?? defaults).map((arg) => (!arg.startsWith('-') && existsSync(join(item.dir, arg)) ? join(item.dir, arg) : arg));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const cases = corpus();

describe('bad-input corpus: every case exits 4 with a position at the offending node', () => {
  it(`holds at least ${MINIMUM_CASES} cases, each with a why, a file, a line and a message`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(MINIMUM_CASES);
    for (const item of cases) {
      expect(item.spec.why, item.id).toEqual(expect.any(String));
      expect(item.spec.file, item.id).toEqual(expect.any(String));
      expect(item.spec.line, item.id).toEqual(expect.any(Number));
      expect(item.spec.message, item.id).toEqual(expect.any(String));
      expect(existsSync(join(item.dir, item.spec.file)), `${item.id}: ${item.spec.file} exists`).toBe(true);
    }
  });

  for (const item of cases) {
    it(`${item.id}: ${item.spec.why}`, async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['node', 'lvsprov', ...argsOf(item)], { out: (line) => out.push(line), err: (line) => err.push(line), isTTY: false });
      const stderr = err.join('\n');
      expect(stderr, 'no internal error or stack trace').not.toMatch(/internal error|^\s+at .*\(.*:\d+:\d+\)$/m);
      expect(code, `exit code; stderr:\n${stderr}`).toBe(4);
      const where = `${escape(join(item.dir, item.spec.file))}:${item.spec.line}:${item.spec.col ?? '\\d+'}: `;
      const located = new RegExp(`^${where}.*${item.spec.message}`, 'm');
      expect(stderr, `expected ${item.spec.file}:${item.spec.line}${item.spec.col ? `:${item.spec.col}` : ''} matching /${item.spec.message}/`).toMatch(located);
    });
  }
});
