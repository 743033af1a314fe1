import { systemDatabase } from '../system-database.js';

// ssh reads a Port as a2port() does: a number 0-65535 as strtonum reads it (`+22` and `022` are
// 22; 0 is then refused as a bad port), else a
// service name getservbyname(name, "tcp") resolves. Node exposes no getservbyname, so the names
// are read from the services database as glibc's files backend reads it: `name port/proto
// aliases...`, `#` to the end of the line, the name or an alias compared case-sensitively, the
// first entry for tcp wins (`Port SSH` and an unknown name are "Bad port" to ssh).

/** Every tcp service name and alias in `text` (a services(5) file) with its port; the first entry wins. */
export function tcpServices(text: string): ReadonlyMap<string, number> {
  const names = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const match = /^(\d+)\/tcp$/.exec(portProto ?? '');
    if (name === undefined || name === '' || match === null) continue;
    const port = Number(match[1]);
    if (port > 65535) continue;
    for (const each of [name, ...aliases]) if (!names.has(each)) names.set(each, port);
  }
  return names;
}

const servicesIn = (file: string): ReadonlyMap<string, number> => systemDatabase(file, tcpServices);

/** The port ssh reads from a Port value (a number 1-65535 or a tcp service name); undefined where ssh says "Bad port". */
export function sshPort(value: string, servicesFile = '/etc/services'): number | undefined {
  if (/^\+?\d+$/.test(value)) {
    const port = Number(value);
    return port >= 1 && port <= 65535 ? port : undefined;
  }
  const port = servicesIn(servicesFile).get(value);
  return port !== undefined && port >= 1 ? port : undefined;
}
