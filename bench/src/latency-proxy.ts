import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';

// A TCP proxy that holds every chunk it forwards for a while in each direction: a round trip
// longer by twice that, which this kernel cannot add itself (it has no netem). Run in the lab's
// control namespace, one listening port per host: node latency-proxy.js DELAY_MS TARGETS.json,
// TARGETS a list of { listen, host, port }. It prints `ready` once every port listens, and runs
// until it is killed. Chunks leave in the order they came: timers of one duration fire in the
// order they were set.

interface Target {
  readonly listen: number;
  readonly host: string;
  readonly port: number;
}

const [delayArg, targetsFile] = process.argv.slice(2);
const delayMs = Number(delayArg);
if (!Number.isFinite(delayMs) || delayMs < 0 || targetsFile === undefined) {
  process.stderr.write('usage: node latency-proxy.js DELAY_MS TARGETS.json\n');
  process.exit(2);
}
const targets = JSON.parse(readFileSync(targetsFile, 'utf8')) as Target[];

/** Forward what `from` sends to `to`, each chunk `delayMs` later; an end or an error passes on with the same delay. */
function delayed(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => setTimeout(() => to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => setTimeout(() => to.destroy(), delayMs));
  from.on('close', () => setTimeout(() => to.destroy(), delayMs + 1));
}

let listening = 0;
for (const target of targets) {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = createConnection({ host: target.host, port: target.port, noDelay: true });
    delayed(client, upstream);
    delayed(upstream, client);
  });
  server.listen(target.listen, '127.0.0.1', 4096, () => {
    listening += 1;
    if (listening === targets.length) process.stdout.write('ready\n');
  });
}
