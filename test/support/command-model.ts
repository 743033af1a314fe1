import { appendRule, parseSave, renderSave } from '../../src/resources/arptables-save.js';
import { ensureDirectoryCommand, type FileState } from '../../src/resources/file-state.js';
import { DEFAULT_ROUTE_ORIGINAL } from '../../src/resources/route.js';
import { ORIGINALS_DIR } from '../../src/resources/sysctl-originals.js';
import { realServerName, serviceName, type Table, type VirtualService } from '../../src/resources/ipvs/model.js';
import { parseRules, renderRules } from '../../src/resources/ipvs/rules-format.js';
import { pinNextHop, unpinNextHop } from '../../src/resources/ipvs/next-hop-pin.js';

// A small model of the host for the fixture convergence proof: the commands a planner emits are
// applied to the facts its probe read, as the kernel and the file system would apply them
// (ipvsadm -A/-E/-D/-a/-e/-d, ip addr/route/link, sysctl -w, arptables -A/-D, modprobe, file
// writes, rm, chmod, systemctl and update-rc.d links), so planning again against the result
// proves the commands do what the plan claims - not only that `after` agrees with the planner.
// A command the model does not know fails the test instead of being skipped.

/** Shell words of a command built with shell/quote.ts: plain words and '...' with '\'' escapes. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const char = command[i] as string;
    if (char === "'") {
      const end = command.indexOf("'", i + 1);
      current += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (char === '\\' && command[i + 1] === "'") {
      current += "'";
      i += 1;
      inWord = true;
    } else if (char === ' ') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

export interface FileWrite {
  readonly path: string;
  readonly state: FileState;
}

/** The file a command writes (file-state.ts's compound write), removes (rm -f), or chmods; undefined for any other command. */
export function fileEffect(command: string, current: (path: string) => FileState): FileWrite | undefined {
  const words = shellWords(command);
  if (words[0] === '{' && words.includes('printf') && words.includes('mv')) {
    const write = words.indexOf('printf');
    const data = words[write + 2] ?? '';
    const content = words[write + 3] === '|' ? Buffer.from(data, 'base64').toString('utf8') : data;
    // The mode: a chmod's, else what the umask the write runs under leaves of 666.
    const umask = words.includes('umask') ? Number.parseInt(words[words.indexOf('umask') + 1] ?? '', 8) : 0o022;
    const mode = words.includes('chmod') ? (words[words.indexOf('chmod') + 1] ?? '') : (0o666 & ~umask).toString(8);
    const path = (words[words.indexOf('mv') + 4] ?? '').replace(/;$/, '');
    return { path, state: { exists: true, content, mode } };
  }
  if (words[0] === 'rm' && words[1] === '-f' && words[2] === '--' && words.length === 4) return { path: words[3] as string, state: { exists: false, content: '' } };
  if (words[0] === 'chmod' && words[2] === '--') {
    const path = words[3] as string;
    return { path, state: { ...current(path), mode: words[1] as string } };
  }
  return undefined;
}

const harmless = (command: string): boolean => /^(\[ -d \S+ \] \|\| )?mkdir -p -- /.test(command) || command === 'systemctl daemon-reload';

function unknown(type: string, command: string): never {
  throw new Error(`the ${type} model does not know: ${command}`);
}

/** ipvsadm edits on a table; service and server lines parse as the save format they mirror. */
function ipvsadm(table: Table, words: readonly string[]): Table {
  const [flag, ...rest] = words;
  const selector = rest.slice(0, rest[0] === '-f' && rest[2] === '-6' ? 3 : 2);
  const serviceOf = (name: string): VirtualService => table.find((service) => serviceName(service) === name) ?? unknown('ipvs', `no service ${name}`);
  const named = serviceName(parseRules(`-A ${selector.join(' ')} -s rr`)[0] as VirtualService);
  const withServer = (service: VirtualService, line: string): VirtualService['realServers'][number] => {
    const parsed = parseRules(`${renderRules([{ ...service, realServers: [] }])}-a ${line}\n`)[0];
    return parsed?.realServers[0] ?? unknown('ipvs', line);
  };
  switch (flag) {
    case '-A':
      return [...table, { ...(parseRules(`-A ${rest.join(' ')}`)[0] as VirtualService), realServers: [] }];
    case '-E': {
      const current = serviceOf(named);
      const edited = parseRules(`-A ${rest.join(' ')}`)[0] as VirtualService;
      return table.map((service) => (service === current ? { ...edited, realServers: current.realServers } : service));
    }
    case '-D':
      return table.filter((service) => service !== serviceOf(named));
    case '-a':
    case '-e': {
      const current = serviceOf(named);
      const server = withServer(current, rest.join(' '));
      const others = current.realServers.filter((other) => realServerName(other) !== realServerName(server));
      if (flag === '-a' && others.length !== current.realServers.length) unknown('ipvs', `-a of a real server already there: ${words.join(' ')}`);
      return table.map((service) => (service === current ? { ...current, realServers: [...others, server] } : service));
    }
    case '-d': {
      const current = serviceOf(named);
      const address = rest[rest.indexOf('-r') + 1];
      return table.map((service) => (service === current ? { ...current, realServers: current.realServers.filter((server) => realServerName(server) !== address) } : service));
    }
    default:
      return unknown('ipvs', words.join(' '));
  }
}

type Facts = Record<string, unknown>;
type Model = (facts: Facts, command: string) => Facts;

const withFile = (facts: Facts, command: string, key = 'file'): Facts | undefined => {
  const effect = fileEffect(command, () => facts[key] as FileState);
  return effect === undefined ? undefined : { ...facts, [key]: effect.state };
};

interface AddressEntry { address: string; prefix: number; label: string }
interface RouteEntry { type: string; via: string | null; device: string | null; metric: number; multipath: boolean }

const models: Record<string, Model> = {
  file: (facts, command) => {
    const effect = fileEffect(command, () => facts as unknown as FileState);
    return effect ? (effect.state as unknown as Facts) : harmless(command) ? facts : unknown('file', command);
  },

  ipvs: (facts, command) => {
    // A scheduler swap under its nftables hold: on the kernel's table it is the bare edit of
    // its else branch (the hold is gone when it ends).
    const swap = /^if command -v nft [\s\S]*\nelse\n {2}(ipvsadm -E .*)\nfi$/.exec(command);
    const words = shellWords(swap?.[1] ?? command);
    // A listing (a forwarding switch lists the connections it leaves on the old method) changes nothing.
    if (words[0] === 'ipvsadm' && words[1] === '-L') return facts;
    // The next-hop pin of a switch between DR and NAT or TUN, a route the probe reads back (its
    // shell is run on a real kernel by next-hop-pin.test.ts); the model takes every server as on-link.
    const pins = (facts.pins ?? []) as string[];
    const pinned = /^lvsprov_pin_route=\$\(ip -4 -o route get ([0-9.]+) /.exec(command)?.[1];
    if (pinned !== undefined && command === pinNextHop(pinned)) return { ...facts, pins: [...new Set([...pins, pinned])] };
    const unpinned = /^if \[ -n "\$\(ip -4 route show exact ([0-9.]+)\/32 proto \d+\)" \]; then ip -4 route del /.exec(command)?.[1];
    if (unpinned !== undefined && command === unpinNextHop(unpinned)) return { ...facts, pins: pins.filter((address) => address !== unpinned) };
    if (words[0] === 'ipvsadm') return { ...facts, ipvs: { state: 'ok' }, table: ipvsadm(facts.table as Table, words.slice(1)) };
    if (command === 'systemctl enable --quiet ipvsadm.service') return { ...facts, bootUnit: 'enabled' };
    if (command === 'systemctl disable --quiet ipvsadm.service') return { ...facts, bootUnit: 'disabled' };
    const files = facts.files as Record<string, FileState>;
    const effect = fileEffect(command, (path) => files[path] ?? { exists: false, content: '' });
    if (effect) return { ...facts, files: { ...files, [effect.path]: effect.state } };
    return harmless(command) ? facts : unknown('ipvs', command);
  },

  address: (facts, command) => {
    // A director's gratuitous ARP for its VIP changes nothing on the host.
    if (command.startsWith("if command -v arping >/dev/null 2>&1; then sh -c 'exec arping -q -U ")) return facts;
    const words = shellWords(command);
    if (words[0] !== 'ip' || words[1] !== 'addr') return unknown('address', command);
    const [address = '', prefix = '32'] = (words[3] ?? '').split('/');
    const device = words[words.indexOf('dev') + 1] ?? '';
    const entries = facts.addresses as AddressEntry[];
    if (words[2] === 'add') {
      if (entries.some((entry) => entry.address === address)) unknown('address', `add of an address already there: ${command}`);
      const label = words.includes('label') ? (words[words.indexOf('label') + 1] as string) : device;
      return { deviceExists: true, addresses: [...entries, { address, prefix: Number(prefix), label }] };
    }
    if (words[2] === 'del') {
      const left = entries.filter((entry) => !(entry.address === address && entry.prefix === Number(prefix)));
      if (left.length === entries.length) unknown('address', `del of an address not there: ${command}`);
      return { ...facts, addresses: left };
    }
    return unknown('address', command);
  },

  stray_address: (facts, command) => {
    const words = shellWords(command);
    if (words[0] !== 'ip' || words[1] !== 'addr' || words[2] !== 'del') return unknown('stray_address', command);
    const prefix = Number((words[3] ?? '').split('/')[1] ?? '32');
    const device = words[words.indexOf('dev') + 1] ?? '';
    const held = facts.held as Array<{ device: string; prefix: number }>;
    const left = held.filter((entry) => !(entry.device === device && entry.prefix === prefix));
    if (left.length === held.length) unknown('stray_address', `del of an address not there: ${command}`);
    return { held: left };
  },

  route: (facts, command) => {
    // The record of the default route a replace overwrote (route-default.original), written once.
    if (command === ensureDirectoryCommand(ORIGINALS_DIR)) return facts;
    if (command.includes(DEFAULT_ROUTE_ORIGINAL)) {
      if (command.startsWith('rm -f -- ')) return { routes: facts.routes };
      const recorded = /printf '%s\\n' '([^']*)' >/.exec(command)?.[1];
      if (recorded === undefined) return unknown('route', command);
      return facts.original === undefined ? { ...facts, original: recorded } : facts;
    }
    const words = shellWords(command);
    if (words[0] !== 'ip' || words[1] !== 'route') return unknown('route', command);
    const after = (key: string): string | null => (words.includes(key) ? (words[words.indexOf(key) + 1] as string) : null);
    const routes = facts.routes as RouteEntry[];
    if (words[2] === 'replace') {
      const entry: RouteEntry = { type: 'unicast', via: after('via'), device: after('dev'), metric: 0, multipath: false };
      return { ...facts, routes: [entry, ...routes.filter((route) => route.metric !== 0)] };
    }
    if (words[2] === 'del') {
      const metric = Number(after('metric') ?? 0);
      const left = routes.filter((route) => !((after('via') === null || route.via === after('via')) && (after('dev') === null || route.device === after('dev')) && route.metric === metric));
      if (left.length === routes.length) unknown('route', `del of a route not there: ${command}`);
      return { ...facts, routes: left };
    }
    return unknown('route', command);
  },

  source_route: (facts, command) => {
    const words = shellWords(command);
    const after = (key: string): string | null => (words.includes(key) ? (words[words.indexOf(key) + 1] as string) : null);
    const rules = facts.rules as string[];
    // `ip -N -4 rule show | grep -Eq 'lookup T' || ip route del default table T`: the table's
    // default goes unless a rule still looks the table up. The variant ending `2>/dev/null || :`
    // is for a table the spec left (not in these facts).
    const drop = /^ip -N -4 rule show \| grep -Eq '\[\[:space:\]\]lookup (\d+)\(\[\[:space:\]\]\|\$\)' \|\| ip route del default table (\d+)( 2>\/dev\/null \|\| :)?$/.exec(command);
    if (drop) {
      if (drop[3] !== undefined) return facts;
      const looks = (rule: string): boolean => new RegExp(`\\slookup ${drop[1]}(\\s|$)`).test(` ${rule.split(': ').slice(1).join(': ')}`);
      const users = [...rules, ...(facts.sharers as string[]), ...(facts.foreign as string[])].filter(looks);
      if (users.length > 0) return facts;
      if (facts.gateway === null) unknown('source_route', `del of a route not there: ${command}`);
      return { ...facts, gateway: null };
    }
    if (words[0] === 'ip' && words[1] === 'route') {
      if (words[2] === 'replace' && words[3] === 'default') return { ...facts, gateway: `via ${after('via') ?? ''}` };
      if (words[2] === 'del' && words[3] === 'default') {
        if (facts.gateway === null) unknown('source_route', `del of a route not there: ${command}`);
        return { ...facts, gateway: null };
      }
    }
    if (words[0] === 'ip' && words[1] === 'rule' && (words[2] === 'add' || words[2] === 'del')) {
      // `ip rule add pref P from S lookup T [suppress_prefixlength 0]`, shown as `P: from S lookup T ...` (main is 254)
      const rest = words.slice(5).map((word) => (word === 'main' ? '254' : word));
      const rule = [`${after('pref') ?? ''}:`, ...rest].join(' ');
      if (words[2] === 'add') return { ...facts, rules: [...rules, rule] };
      if (!rules.includes(rule)) unknown('source_route', `del of a rule not there: ${command}`);
      return { ...facts, rules: rules.filter((entry) => entry !== rule) };
    }
    return unknown('source_route', command);
  },

  link: (facts, command) => {
    const words = shellWords(command);
    if (words.slice(0, 4).join(' ') !== 'ip link set dev') return unknown('link', command);
    if (words[5] === 'up' || words[5] === 'down') return { ...facts, exists: true, up: words[5] === 'up' };
    if (words[5] === 'mtu') return { ...facts, exists: true, mtu: Number(words[6]) };
    return unknown('link', command);
  },

  kmod: (facts, command) => {
    if (/^modprobe -- \S+$/.test(command)) return { ...facts, state: 'loaded' };
    return withFile(facts, command) ?? (harmless(command) ? facts : unknown('kmod', command));
  },

  sysctl: (facts, command) => {
    const words = shellWords(command);
    if (words[0] === 'sysctl' && words[1] === '-q' && words[2] === '-w') {
      const [name = '', value = ''] = (words[3] ?? '').split(/=(.*)/s);
      return { ...facts, runtime: { ...(facts.runtime as object), [name]: value } };
    }
    // A key's /proc/sys file written by the shell: sysctl's name-to-path rule, backwards.
    if (words[0] === 'printf' && words[1] === '%s\\n' && words[3] === '>' && words[4]?.startsWith('/proc/sys/')) {
      const name = words[4].slice('/proc/sys/'.length).replace(/[./]/g, (char) => (char === '/' ? '.' : '/'));
      return { ...facts, runtime: { ...(facts.runtime as object), [name]: words[2] as string } };
    }
    // The originals record: each listed key without a record gets its runtime value.
    const listed = [...command.matchAll(/\*' (\S+) '\*\)/g)].map((match) => match[1] as string);
    if (listed.length > 0 && command.includes('> "$o.lvsprov-tmp" && mv')) {
      const originals = { ...(facts.originals as Record<string, string>) };
      const runtime = facts.runtime as Record<string, string | null>;
      for (const name of listed) if (originals[name] === undefined && runtime[name] != null) originals[name] = runtime[name] as string;
      return { ...facts, originals };
    }
    const forget = /-v drop=('[^']*'|\S+)/.exec(command);
    if (command.includes('sysctl-originals') && forget) {
      const gone = new Set((shellWords(forget[1] as string)[0] ?? '').split(' '));
      return { ...facts, originals: Object.fromEntries(Object.entries(facts.originals as object).filter(([name]) => !gone.has(name))) };
    }
    if (/^o=\S+$/.test(command)) return facts;
    return withFile(facts, command) ?? (harmless(command) ? facts : unknown('sysctl', command));
  },

  arptables: (facts, command) => {
    const words = shellWords(command);
    if (words[0] === 'arptables' && (words[1] === '-A' || words[1] === '-D')) {
      const value = (flag: string): string | undefined => (words.includes(flag) ? words[words.indexOf(flag) + 1] : undefined);
      const rule = { chain: words[2] as 'INPUT' | 'OUTPUT', source: value('-s'), destination: value('-d'), target: value('-j') as 'DROP' | 'mangle', mangle_source: value('--mangle-ip-s') };
      let tables = parseSave(facts.runtime as string);
      if (words[1] === '-A') tables = appendRule(tables, rule);
      else {
        const probe = parseSave(renderSave(appendRule(parseSave('*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:FORWARD ACCEPT\n\n'), rule))).rules[0];
        const index = tables.rules.findIndex((saved) => saved.key === probe?.key);
        if (index < 0) unknown('arptables', `-D of a rule not there: ${command}`);
        tables = { ...tables, rules: tables.rules.filter((_, i) => i !== index) };
      }
      return { ...facts, installed: true, runtime: renderSave(tables) };
    }
    return withFile(facts, command) ?? (harmless(command) ? facts : unknown('arptables', command));
  },

  at_boot: (facts, command) => {
    const words = shellWords(command);
    if (words[0] === 'systemctl' && (words[1] === 'enable' || words[1] === 'disable')) return { ...facts, enabled: words[1] === 'enable' };
    if (words[0] === 'update-rc.d') return { ...facts, enabled: !words.includes('remove') };
    // The `remove` of a partial set of links before `defaults` makes them all (sysv-links.ts).
    if (words[0] === 'l=;' && words.includes('update-rc.d')) return { ...facts, enabled: false };
    return withFile(facts, command) ?? (harmless(command) ? facts : unknown('at_boot', command));
  },
};

/** Types whose commands (a package manager, a daemon's start and stop, nft) stay outside the model: their convergence is checked with `after`. */
export const UNMODELLED = new Set(['package', 'service', 'fwmark', 'allowlist', 'keepalived']);

export function applyCommands(type: string, facts: unknown, commands: readonly string[]): unknown {
  const model = models[type];
  if (model === undefined) throw new Error(`no command model for ${type}`);
  return commands.reduce<Facts>((state, command) => model(state, command), facts as Facts);
}
