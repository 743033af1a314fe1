import { loadInventory, type LoadedInventory } from '../config/inventory.js';
import { newNonce } from '../engine/batch-script.js';
import { ConfigError } from '../errors.js';
import type { ConnectOptions } from '../transport/types.js';
import { vipPlans } from './arp-plan.js';
import { checkArp } from './arp-run.js';
import { clientScript, SESSION_PAGE_PATH } from './client-script.js';
import { describeFailure, parseClientOutput, type ClientOutput } from './client-output.js';
import { clientProgress, type ProgressSink } from './progress.js';
import type { PageCheck, ServiceCheck, SessionCheck, VerifyReport } from './report.js';
import { judgeSession } from './session-verdict.js';
import { judgeService } from './service-verdict.js';
import { SessionPool } from './session-pool.js';
import { verifyTargets, type PageTarget, type RequestTarget } from './targets.js';

// `verify` as a library call: the CLI prints what this returns, and the e2e suite calls it
// directly. The client's requests, the directors' reads and the ARP checks run at once, each
// host over one connection.

export interface VerifyOptions extends ConnectOptions {
  readonly requests: number;
  /** Percentage points a share may be off before the split fails. */
  readonly tolerance: number;
  readonly timeoutSeconds: number;
  readonly timeLimitSeconds: number;
  /** The host that sends the requests; default: the first host of group `clients`. */
  readonly client?: string;
  /** -F: the ssh_config file (or `none`) instead of the inventory's ssh.config_file or ~/.ssh/config. */
  readonly sshConfigFile?: string;
  /** Told as each service, ARP check or unreachable host is known, before the report. */
  readonly onProgress?: ProgressSink;
}

export { verifyDefaults } from './defaults.js';

export async function verifyCluster(inventoryOrFile: LoadedInventory | string, options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const inventory = typeof inventoryOrFile === 'string' ? loadInventory(inventoryOrFile) : inventoryOrFile;
  const client = pickClient(inventory, options.client);
  const targets = verifyTargets(inventory.services);
  const pool = new SessionPool(inventory, options);
  // With lvs.sessions, one user's requests go to each service's session page too, where every
  // real server is an inventory host (the webpage role serves the page there).
  const sessionTargets = inventory.data.lvs.sessions ? targets.requests.filter((target) => target.service.realServers.every((server) => server.host !== undefined)) : [];
  const sessionRequests = Math.min(options.requests, SESSION_REQUESTS);
  const names = new Map(inventory.services.map((service, index) => [index, service.name]));
  options.onProgress?.({
    kind: 'start',
    client,
    requests: options.requests,
    services: targets.requests.map((target) => names.get(target.index) ?? `#${target.index}`),
    vips: vipPlans(inventory).map((plan) => plan.vip),
  });
  try {
    const clientPages = targets.pages.filter((page) => 'client' in page.from);
    const byDirector = new Map<string, PageTarget[]>();
    for (const page of targets.pages) if ('director' in page.from) byDirector.set(page.from.director, [...(byDirector.get(page.from.director) ?? []), page]);

    const fetchFrom = async (host: string, role: string, pages: readonly PageTarget[], withServices: boolean): Promise<ClientOutput | undefined> => {
      const nonce = newNonce();
      const script = clientScript({
        nonce,
        requests: options.requests,
        timeoutSeconds: options.timeoutSeconds,
        timeLimitSeconds: options.timeLimitSeconds,
        services: withServices ? targets.requests.map((target) => ({ index: target.index, url: target.url })) : [],
        pages: pages.map((page) => page.url),
        ...(withServices && sessionTargets.length > 0 ? { sessions: sessionTargets.map((target) => ({ index: target.index, url: sessionUrl(target) })), sessionRequests } : {}),
      });
      const onStdout = withServices && options.onProgress ? clientProgress(nonce, names, options.onProgress) : undefined;
      const run = await pool.run(host, role, script, onStdout ? { onStdout } : {});
      if (!run) {
        const message = pool.contacts().find((contact) => contact.host === host)?.error ?? 'unreachable';
        options.onProgress?.({ kind: 'unreachable', host, role, message });
        return undefined;
      }
      const output = parseClientOutput(nonce, run.stdout);
      if (!output.complete) pool.fail(host, `the ${role} script did not finish (exit ${run.code}): ${run.stderr.trim() || 'no message'}`);
      return output;
    };

    const [clientOutput, directorOutputs, arp] = await Promise.all([
      fetchFrom(client, 'client', clientPages, true),
      Promise.all([...byDirector.entries()].map(async ([director, pages]) => [director, await fetchFrom(director, 'page fetcher', pages, false)] as const)),
      checkArp(inventory, pool).then((checks) => {
        for (const check of checks) {
          const responders = check.responders.map((responder) => responder.host ?? responder.mac);
          options.onProgress?.({ kind: 'arp', vip: check.vip, status: check.status, responders });
        }
        return checks;
      }),
    ]);

    const pages: PageCheck[] = [];
    const pageNames = new Map<string, string>();
    const judgePages = (list: readonly PageTarget[], output: ClientOutput | undefined, fetcher: string): void => {
      list.forEach((page, index) => {
        const outcome = output?.pages.get(index);
        const base = { ...(page.host !== undefined ? { host: page.host } : {}), address: page.address, port: page.port, url: page.url };
        if (!output || !outcome) {
          pages.push({ ...base, status: 'not-run', problem: `not fetched: ${fetcher} was unreachable or its script failed` });
          return;
        }
        if (outcome.name !== undefined) pageNames.set(`${page.address}:${page.port}`, outcome.name);
        if (outcome.name === undefined) pages.push({ ...base, status: 'fail', problem: `no page from ${fetcher}: ${describeFailure(outcome, output.fetcher, options.timeoutSeconds)}` });
        else if (page.host !== undefined && outcome.name !== page.host) {
          pages.push({ ...base, status: 'fail', got: outcome.name, problem: `the page names ${outcome.name}, not ${page.host}` });
        } else pages.push({ ...base, status: 'pass', got: outcome.name });
      });
    };
    judgePages(clientPages, clientOutput, client);
    for (const [director, output] of directorOutputs) judgePages(byDirector.get(director) ?? [], output, director);

    const services: ServiceCheck[] = inventory.services.map((service, index) => {
      const skipped = targets.skipped.find((entry) => entry.index === index);
      const target = targets.requests.find((entry) => entry.index === index);
      if (skipped || !target) {
        return notChecked(service, 'skipped', skipped?.reason ?? 'not checked');
      }
      if (!clientOutput) return notChecked(service, 'not-run', `not run: the client ${client} was unreachable or its script failed`, target.port);
      const stoppedAt = clientOutput.stopped.get(index);
      return judgeService({
        target,
        answers: {
          outcomes: clientOutput.requests.get(index) ?? [],
          ...(stoppedAt !== undefined ? { stoppedAt } : {}),
          ...(clientOutput.fetcher !== undefined ? { fetcher: clientOutput.fetcher } : {}),
        },
        requested: options.requests,
        tolerance: options.tolerance,
        pageNames,
        timeoutSeconds: options.timeoutSeconds,
      });
    });

    const sessions: SessionCheck[] = sessionTargets.map((target) =>
      clientOutput
        ? judgeSession({
            service: target.service,
            url: sessionUrl(target),
            sent: sessionRequests,
            answers: clientOutput.sessions.get(target.index) ?? [],
            ...(clientOutput.fetcher !== undefined ? { fetcher: clientOutput.fetcher } : {}),
            timeoutSeconds: options.timeoutSeconds,
          })
        : { service: target.service.name, url: sessionUrl(target), status: 'not-run', sent: 0, counts: [], servers: {}, notes: [`not run: the client ${client} was unreachable or its script failed`], problems: [] },
    );

    const hosts = pool.contacts();
    const failures = [
      ...services.flatMap((service) => service.problems.map((problem) => `service ${service.name}: ${problem}`)),
      ...arp.flatMap((check) => check.problems.map((problem) => `ARP ${check.vip}: ${problem}`)),
      ...pages.filter((page) => page.status === 'fail').map((page) => `page ${page.url}: ${page.problem ?? 'failed'}`),
      ...sessions.flatMap((session) => session.problems.map((problem) => `session ${session.service}: ${problem}`)),
      ...hosts.filter((host) => host.reachable && host.error).map((host) => `${host.host}: ${host.error}`),
    ];
    return {
      ...(inventory.data.name !== undefined ? { cluster: inventory.data.name } : {}),
      client,
      ...(clientOutput?.fetcher !== undefined ? { fetcher: clientOutput.fetcher } : {}),
      requests: options.requests,
      tolerance: options.tolerance,
      services,
      arp,
      pages,
      sessions,
      hosts,
      failures,
      unreachable: hosts.filter((host) => !host.reachable).map((host) => `${host.host}: ${host.error ?? 'unreachable'}`),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    pool.close();
  }
}

/** One user's requests per service to the session page: enough to cross servers, few enough for php-cgi's start each time. */
const SESSION_REQUESTS = 10;

function sessionUrl(target: RequestTarget): string {
  return `${target.url}${SESSION_PAGE_PATH}`;
}

export function pickClient(inventory: LoadedInventory, requested: string | undefined): string {
  if (requested !== undefined) {
    if (!Object.hasOwn(inventory.data.hosts, requested)) {
      throw new ConfigError([inventory.source.problem(['hosts'], `--client ${requested}: no such host in the inventory`)]);
    }
    return requested;
  }
  const client = inventory.groups.get('clients')?.[0];
  if (client === undefined) {
    throw new ConfigError([
      inventory.source.problem(['groups'], 'verify needs a host that sends the requests: put one in group `clients` (or pass --client HOST)'),
    ]);
  }
  return client;
}

function notChecked(service: LoadedInventory['services'][number], status: 'skipped' | 'not-run', why: string, port?: number): ServiceCheck {
  return {
    name: service.name,
    protocol: service.protocol,
    ...(service.address !== undefined ? { vip: service.address } : {}),
    ...(port !== undefined ? { port } : {}),
    scheduler: service.scheduler,
    forwarding: service.forwarding,
    persistent: service.persistence !== undefined,
    status,
    notes: [why],
    sent: 0,
    answered: 0,
    unanswered: 0,
    strangers: {},
    servers: service.realServers.map((server) => ({
      ...(server.host !== undefined ? { name: server.host } : {}),
      address: server.address,
      port: server.port,
      weight: server.weight,
      answers: 0,
      gotPercent: 0,
      verdict: 'info' as const,
      detail: status === 'skipped' ? 'not checked' : 'not run',
    })),
    problems: [],
  };
}
