import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/config/connection.js';
import { loadInventory } from '../../src/config/inventory.js';
import { proxyOf } from '../../src/config/proxy-chain.js';
import { ConfigError } from '../../src/errors.js';
import { resolveSshConfig, type ResolvedSshConfig } from '../../src/transport/ssh-config.js';
import { sshTimeSeconds } from '../../src/transport/ssh-config-line-values.js';
import { sshPort } from '../../src/transport/service-port.js';
import { DIR, generateCase, HOSTS, REL_DIR, TILDE_DIR, type GeneratedCase } from '../support/ssh-config-grammar.js';
import { seeded } from '../support/seeded-random.js';

// A differential test of lvsprov's ssh_config reading against OpenSSH's own (`ssh -G -F FILE HOST`):
// random files from a grammar of what lvsprov reads (test/support/ssh-config-grammar.ts), each
// looked up for three names, compared keyword by keyword for the keywords lvsprov uses; a file ssh
// refuses must be refused by lvsprov too, at the same file and line. Replay another seed with
// LVSPROV_SSH_DIFF_SEED=n (and more cases with LVSPROV_SSH_DIFF_CASES=n); LVSPROV_SSH_DIFF_ALL=1
// lists every failing lookup in one line each, LVSPROV_SSH_DIFF_KEEP=1 keeps the files written.

const SEED = Number(process.env.LVSPROV_SSH_DIFF_SEED ?? 20_250_921);
const CASES = Number(process.env.LVSPROV_SSH_DIFF_CASES ?? 300);

const root = mkdtempSync(join(tmpdir(), 'lvsprov-ssh-diff-'));
afterAll(() => (process.env.LVSPROV_SSH_DIFF_KEEP ? console.log(`kept ${root}`) : rmSync(root, { recursive: true, force: true })));
// $HOME holds the case folders, so that an Include may name them from ~ and from ~/.ssh.
const home = join(root, 'home');
mkdirSync(join(home, '.ssh'), { recursive: true });
const localUser = userInfo().username;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, USER: localUser, LOGNAME: localUser };

const written = (text: string, caseDir: string, index: number): string => text.replaceAll(DIR, caseDir).replaceAll(TILDE_DIR, `~/c${index}`).replaceAll(REL_DIR, `../c${index}`);

interface Lookup {
  readonly index: number;
  readonly host: string;
  readonly config: string;
}

/** ssh's answer: its keywords (identityfile's lines joined), or where it refused the file. */
interface Refusal {
  readonly refused: { readonly file: string; readonly line: number } | 'somewhere';
  readonly why: string;
}
type Answer = { readonly values: Record<string, string>; readonly jumpRefused?: Refusal } | Refusal;

const COMPARED = ['user', 'hostname', 'port', 'identityfile', 'userknownhostsfile', 'hostkeyalias', 'connecttimeout', 'serveraliveinterval', 'serveralivecountmax', 'stricthostkeychecking', 'identitiesonly', 'checkhostip', 'hashknownhosts', 'proxyjump'] as const;

/** All the lookups in one shell, each ssh -G writing to files of its own: one spawn for hundreds of them. */
function sshAnswers(lookups: readonly Lookup[]): Answer[] {
  const out = join(root, 'out');
  mkdirSync(out, { recursive: true });
  const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;
  const script = lookups.map((lookup, i) => `ssh -G -F ${quote(lookup.config)} ${quote(lookup.host)} </dev/null >${out}/${i}.out 2>${out}/${i}.err; echo $? >${out}/${i}.rc`).join('\n');
  writeFileSync(join(out, 'run.sh'), `${script}\n`);
  const run = spawnSync('sh', [join(out, 'run.sh')], { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the ssh -G script failed: ${run.error ?? run.stderr}`);
  return lookups.map((_, i) => {
    const rc = readFileSync(join(out, `${i}.rc`), 'utf8').trim();
    const stderr = readFileSync(join(out, `${i}.err`), 'utf8');
    if (rc !== '0') {
      // `FILE line N: ...` or `FILE: line N: ...`; a file included from ~/.ssh as ssh named it (`~/.ssh/../x`).
      const at = /^(.+?):? line (\d+): /m.exec(stderr);
      return { refused: at ? { file: resolve(at[1] ?? ''), line: Number(at[2]) } : 'somewhere', why: stderr.trim() };
    }
    const lines = readFileSync(join(out, `${i}.out`), 'utf8')
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)] as const);
    const values: Record<string, string> = {};
    for (const keyword of COMPARED) {
      const found = lines.filter(([key]) => key === keyword).map(([, value]) => value);
      values[keyword] = found.join(' | ');
    }
    // ssh prints a relative known_hosts file as written; lvsprov opens it from the current directory, as ssh does.
    // `none` (no file) is printed as the word.
    values.userknownhostsfile = (values.userknownhostsfile ?? '')
      .split(' ')
      .filter((file) => file !== 'none')
      .map((file) => resolve(file))
      .join(' ');
    return { values };
  });
}

const flag = (value: string | undefined): string => (['yes', 'true'].includes(value?.toLowerCase() ?? '') ? 'yes' : 'no');

/** ssh -G's ProxyJump line: the entries before the last as written, the last one as ssh parsed it. */
function proxyJumpLine(config: ResolvedSshConfig): string {
  const proxy = proxyOf(config);
  if (proxy.kind !== 'jump') return '';
  const text = proxy.value.values.join(' ');
  const comma = text.lastIndexOf(',');
  const last = text.slice(comma + 1).replace(/^ssh:\/\//, '').replace(/\/$/, '');
  const at = last.lastIndexOf('@');
  const user = at === -1 ? undefined : last.slice(0, at);
  const [host = '', port] = last.slice(at + 1).split(':');
  const numeric = /^[0-9.]+$/.test(host);
  return `${comma === -1 ? '' : `${text.slice(0, comma)},`}${user === undefined ? '' : `${user}@`}${numeric ? `[${host}]` : host}${port === undefined ? '' : `:${sshPort(port)}`}`;
}

/** The keywords read from the resolved config alone; the others are what the connection is made with. */
const CONFIG_LEVEL = ['identityfile', 'connecttimeout', 'identitiesonly', 'checkhostip', 'proxyjump'] as const;

/** lvsprov's answer for the same lookup, in ssh -G's terms. */
function lvsprovAnswer(lookup: Lookup, inventory: ReturnType<typeof loadInventory>): Answer {
  let config: ResolvedSshConfig;
  try {
    config = resolveSshConfig(lookup.config, { host: lookup.host }, { globHome: home });
  } catch (error) {
    return refusal(error);
  }
  const raw = (keyword: string): string | undefined => config.values.get(keyword)?.values[0];
  const timeout = raw('connecttimeout');
  const fromConfig: Record<(typeof CONFIG_LEVEL)[number], string> = {
    identityfile: (config.values.get('identityfile')?.values ?? ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa']).join(' | '),
    connecttimeout: timeout === undefined || timeout.toLowerCase() === 'none' ? 'none' : String(sshTimeSeconds(timeout)),
    identitiesonly: flag(raw('identitiesonly')),
    checkhostip: flag(raw('checkhostip')),
    proxyjump: proxyJumpLine(config),
  };
  try {
    const { target, origins } = resolveConnection(inventory, 'h', { sshConfigFile: lookup.config, env });
    const strict: Record<string, string> = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' };
    return {
      values: {
        ...fromConfig,
        user: target.user,
        hostname: target.address,
        port: String(target.port),
        userknownhostsfile: target.knownHostsFiles.join(' '),
        hostkeyalias: target.hostKeyAlias ?? '',
        // Unset (or `none`): ssh's default is no keepalives, lvsprov's its own.
        serveraliveinterval: origins.server_alive_interval === 'default' || raw('serveraliveinterval') === 'none' ? '0' : String(target.serverAlive.intervalMs / 1000),
        serveralivecountmax: String(target.serverAlive.countMax),
        stricthostkeychecking: strict[target.strictHostKeyChecking ?? 'ask'] ?? '',
        hashknownhosts: target.hashKnownHosts ? 'yes' : 'no',
      },
    };
  } catch (error) {
    // Where the host is reached through jump hosts, the connection is refused for what ssh would
    // meet only as it runs them (ssh -G prints the ProxyJump as written): a jump host reached
    // through itself (ssh would start one \`ssh -W\` inside another without end), a jump host's
    // name that %n makes longer at each hop. The config's own keywords are still compared.
    if (proxyOf(config).kind === 'jump') return { values: fromConfig, jumpRefused: refusal(error) };
    return refusal(error);
  }
}

function refusal(error: unknown): Refusal {
  if (!(error instanceof ConfigError)) return { refused: 'somewhere', why: String(error) };
  const [problem] = error.problems;
  return { refused: problem ? { file: problem.file, line: problem.line } : 'somewhere', why: error.message };
}

/** What differs, or undefined when lvsprov reads the lookup as ssh does. */
function difference(ssh: Answer, lvsprov: Answer): string | undefined {
  if ('refused' in ssh) {
    const refused = 'refused' in lvsprov ? lvsprov : lvsprov.jumpRefused;
    if (refused === undefined) return `ssh refuses (${ssh.why}), lvsprov reads it`;
    // ssh stops before it prints anything where the last jump host is the host itself, same port and user.
    if (!('refused' in lvsprov) && ssh.why.includes('jumphost loop')) return undefined;
    if (ssh.refused === 'somewhere' || (refused.refused !== 'somewhere' && refused.refused.file === ssh.refused.file && refused.refused.line === ssh.refused.line)) return undefined;
    return `ssh refuses at ${ssh.refused.file}:${ssh.refused.line} (${ssh.why}), lvsprov at ${refused.refused === 'somewhere' ? 'no line' : `${refused.refused.file}:${refused.refused.line}`} (${refused.why})`;
  }
  if ('refused' in lvsprov) return `ssh reads it, lvsprov refuses: ${lvsprov.why}`;
  const differ = COMPARED.filter((keyword) => keyword in lvsprov.values && ssh.values[keyword] !== lvsprov.values[keyword]);
  return differ.length === 0 ? undefined : differ.map((keyword) => `${keyword}: ssh -G ${JSON.stringify(ssh.values[keyword])}, lvsprov ${JSON.stringify(lvsprov.values[keyword])}`).join('\n');
}

describe('ssh_config read as ssh -G reads it, on random files', () => {
  it(`agrees with ssh -G on ${CASES} generated configs (seed ${SEED})`, () => {
    const random = seeded(SEED);
    const cases: GeneratedCase[] = Array.from({ length: CASES }, () => generateCase(random));
    const lookups: Lookup[] = [];
    cases.forEach((generated, index) => {
      const caseDir = join(home, `c${index}`);
      mkdirSync(caseDir);
      for (const file of generated.files) writeFileSync(join(caseDir, file.name), `${file.lines.map((line) => written(line, caseDir, index)).join('\n')}\n`);
      for (const host of generated.hosts) lookups.push({ index, host, config: join(caseDir, 'config') });
    });
    // One inventory for each name (an inventory refuses web1 beside WEB1): its host `h` has that address.
    const inventories = new Map(
      HOSTS.map((address, i) => {
        const file = join(root, `inventory-${i}.yaml`);
        writeFileSync(file, stringify({ ssh: { agent: false }, hosts: { h: { address } } }));
        return [address as string, loadInventory(file)];
      }),
    );
    const answers = sshAnswers(lookups);
    let jumpRefused = 0;
    const failures = lookups.flatMap((lookup, i) => {
      const lvsprov = lvsprovAnswer(lookup, inventories.get(lookup.host)!);
      if ('jumpRefused' in lvsprov) jumpRefused++;
      const why = difference(answers[i] as Answer, lvsprov);
      if (why === undefined) return [];
      const caseDir = join(home, `c${lookup.index}`);
      const files = cases[lookup.index]?.files.map((file) => `--- ${join(caseDir, file.name)}\n${file.lines.map((line) => written(line, caseDir, lookup.index)).join('\n')}`);
      return [`case ${lookup.index} (seed ${SEED}), host ${JSON.stringify(lookup.host)}, HOME=${home}:\n${why}\n${files?.join('\n')}`];
    });
    if (process.env.LVSPROV_SSH_DIFF_ALL) console.log(failures.map((failure) => failure.split('\n').slice(0, 2).join(' :: ')).join('\n'));
    const refused = answers.filter((answer) => 'refused' in answer).length;
    expect({ failures: failures.length, shown: failures.slice(0, 8) }, `${lookups.length} lookups, ${refused} refused by ssh, ${jumpRefused} refused by lvsprov for their jump hosts (the config's keywords compared)`).toEqual({ failures: 0, shown: [] });
  });
});
