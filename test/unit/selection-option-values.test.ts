import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runMain } from '../support/main-io.js';

// --limit, --tags and --skip-tags are refused before anything is read when they cannot select
// anything as written: an empty value (`-l "$HOSTS"` with the variable unset would otherwise run
// on every host), an empty term, or characters no host, group or tag name has. Exit 4, no host
// contacted: the inventory's hosts are in 192.0.2.0/24, where nothing answers.

const scratch = mkdtempSync(join(tmpdir(), 'lvsprov-selection-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const inventory = join(import.meta.dirname, '../fixtures/bad-input/fresh-probes/apply-ssh-config-port/inventory.yaml');

describe('selection options', () => {
  it.each([
    [['apply', '--check', '-l', ''], /--limit is empty; name hosts or groups.*an unset shell variable/],
    [['apply', '--check', '-l', ' , '], /--limit is empty/],
    [['apply', '--check', '-l', 'web1,,web2'], /--limit has an empty term .* in "web1,,web2"/],
    [['apply', '--check', '-l', 'web1,'], /--limit has an empty term/],
    [['apply', '--check', '-l', 'web1;id'], /--limit takes hosts or groups.*"web1;id" is not one/],
    [['status', '-l', ''], /--limit is empty/],
    [['validate', '-l', 'a b'], /--limit takes hosts or groups.*"a b" is not one/],
    [['apply', '--check', '-t', 'web server'], /--tags takes tags \(letters, digits, _ \. -\); "web server" is not one/],
    [['apply', '--check', '--skip-tags', ''], /--skip-tags is empty/],
    [['validate', '--skip-tags', 'a,$(id)'], /--skip-tags takes tags.*"\$\(id\)" is not one/],
    // The hosts' shells compare a timeout in plain decimal: 1e21 would reach them as 1e+21.
    [['apply', '--check', '--drain-timeout', '1e21'], /--drain-timeout takes a number of seconds from 0 to 31536000 \(a year\), written like 60 or 0\.5, not 1e21/],
    [['apply', '--check', '--drain-timeout', '31536001'], /--drain-timeout takes a number of seconds from 0 to 31536000/],
    [['apply', '--check', '--lock-timeout', '0x10'], /--lock-timeout takes a number of seconds/],
    [['apply', '--check', '--lock-timeout', '-1'], /--lock-timeout takes a number of seconds/],
    // --forks is a count written as one: not hex, an exponent, a blank, or past any run's size.
    ...['0x2', '1e1', ' 2', '2.0', '0', '99999999999999999999'].map((forks) => [['apply', '--check', '--forks', forks], /--forks takes a whole number from 1 to 10000/] as [string[], RegExp]),
    [['status', '--forks', '1e1'], /--forks takes a whole number from 1 to 10000/],
    [['apply', '--check', '--roles-path', ''], /--roles-path is empty; name a folder \(an unset shell variable\?\)/],
    [['validate', '--roles-path', ' '], /--roles-path is empty/],
  ])('%j is refused with exit 4', async (args, message) => {
    const result = await runMain([...args, '-i', inventory]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(4);
  });

  it('shows a long or control-character argument escaped and by its start and length, never raw', async () => {
    const long = await runMain(['validate', '-i', inventory, '-l', `${'x'.repeat(5000)};`]);
    expect(long.code).toBe(4);
    expect(long.stderr).toContain(`"${'x'.repeat(40)}...(5001 characters)" is not one`);
    expect(long.stderr.length).toBeLessThan(1000);
    const escape = await runMain(['validate', '-i', inventory, '-l', 'web1\u001b[31m']);
    expect(escape.code).toBe(4);
    expect(escape.stderr).toContain("argument 'web1\\u001b[31m' is invalid");
    expect(escape.stderr).not.toContain('\u001b');
    const forged = await runMain(['validate', '-i', inventory, '--bogus\nforged line']);
    expect(forged.code).toBe(4);
    expect(forged.stderr).toContain("unknown option '--bogus\\nforged line'");
  });

  it('escapes arguments in commander errors of lab subcommands as everywhere else', async () => {
    for (const args of [['lab', 'exec', '--bad\u001b[31m'], ['lab', 'up', '-i', 'x.yaml', '--bad\u001b[31m'], ['lab', 'down', '--bad\nforged line']]) {
      const result = await runMain(args);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/unknown option '--bad\\(u001b\[31m|nforged line)'/);
      expect(result.stderr).not.toContain('\u001b');
      expect(result.stderr).not.toContain('\nforged');
    }
  });

  it('adds up a repeated --limit, --tags or --skip-tags (Ansible adds up -t a -t b) rather than keep the last in silence', async () => {
    const hosts = await runMain(['validate', '-i', inventory, '-l', 'web1', '-l', 'lvs1', '--list-hosts']);
    expect(hosts.code, hosts.stderr).toBe(0);
    expect(hosts.stdout).toMatch(/hosts \(2\):\n  \S+\n  \S+/);
    expect(hosts.stdout).toMatch(/web1/);
    expect(hosts.stdout).toMatch(/lvs1/);
    const excluded = await runMain(['validate', '-i', inventory, '-l', 'web*', '-l', '!web2', '--list-hosts']);
    expect(excluded.stdout).toMatch(/web1/);
    expect(excluded.stdout).not.toMatch(/web2/);
    // A play per tag: --tags a --tags b lists the tasks of a and b; --skip-tags a --skip-tags b those of c alone.
    const playbook = join(scratch, 'playbook.yaml');
    writeFileSync(playbook, stringify(['a', 'b', 'c'].map((tag) => ({ name: tag, hosts: 'realservers', roles: ['webpage'], tags: [tag] }))));
    const tasks = async (...flags: string[]): Promise<string> => {
      const result = await runMain(['validate', '-i', inventory, '-p', playbook, '-l', 'web1', '--list-tasks', ...flags]);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };
    expect(await tasks('-t', 'a', '-t', 'b')).toMatch(/^web1 \(6 tasks\):/);
    expect(await tasks('-t', 'a', '-t', 'b')).toBe(await tasks('-t', 'a,b'));
    expect(await tasks('--skip-tags', 'a', '--skip-tags', 'b')).toMatch(/^web1 \(3 tasks\):/);
    expect(await tasks('--skip-tags', 'a', '--skip-tags', 'b')).toBe(await tasks('-t', 'c'));
  });

  it('refuses a --limit whose exclusions leave no host (exit 4), as Ansible refuses one that targets nothing, rather than run on none and say all went well', async () => {
    for (const args of [['validate', '-i', inventory, '-l', 'web*,!web1,!web2', '--list-hosts'], ['apply', '--check', '-i', inventory, '-l', 'realservers', '-l', '!realservers'], ['status', '-i', inventory, '-l', 'lvs1,!directors']]) {
      const result = await runMain(args);
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toMatch(/^--limit:1:1: .* selects no host: its exclusions \(.*\) remove every host the rest names$/m);
    }
  });

  it('takes names, globs and exclusions', async () => {
    const result = await runMain(['validate', '-i', inventory, '-l', 'web*,!web2,lvs1', '-t', 'ipvs,always', '--skip-tags', 'web.page', '--list-hosts']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/web1/);
    expect(result.stdout).not.toMatch(/web2/);
  });
});
