// What `verify` found, as plain data: the CLI renders it as text or prints it as JSON, and the
// e2e suite asserts on it directly. Nothing here knows how it was measured.

/** pass and fail are verdicts; skipped means verify cannot check this by design; not-run means a host it needed was unreachable. */
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'not-run';

/**
 * What the answers of one virtual service are held to, by scheduler:
 * - split: shares within the tolerance of the expected share (rr: equal, wrr: weight / sum)
 * - every: every server with weight > 0 answers; shares are shown, not judged
 * - one: every answer from one server (the client is one source address: persistence, hashing)
 * - highest: every answer from a server with the highest weight (fo)
 * - any: every answer from a server of the service with weight > 0
 */
export type CheckKind = 'split' | 'every' | 'one' | 'highest' | 'any';

export type ServerVerdict = 'ok' | 'off' | 'silent' | 'unexpected' | 'info';

export interface ServerRow {
  /** Inventory host, or the name its own page gave when the inventory lists only an address. */
  readonly name?: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  /** Percent of the answers this server should get; absent where the check is not a share. */
  readonly expectedPercent?: number;
  readonly answers: number;
  readonly gotPercent: number;
  readonly verdict: ServerVerdict;
  /** Why the verdict, for people: "off by 16.7 points", "never answered". */
  readonly detail: string;
}

export interface ServiceCheck {
  readonly name: string;
  readonly protocol: 'tcp' | 'udp' | 'fwmark';
  readonly vip?: string;
  /** The port requests went to (80 for a port-0 service). */
  readonly port?: number;
  readonly scheduler: string;
  readonly forwarding: string;
  readonly persistent: boolean;
  readonly status: CheckStatus;
  readonly check?: CheckKind;
  /** What was checked and why, or why nothing was. */
  readonly notes: readonly string[];
  readonly sent: number;
  readonly answered: number;
  /** Requests that got no page (timeout, refused, or a page naming nobody). */
  readonly unanswered: number;
  /** Answers from hosts that are not real servers of this service, by the name their page gave. */
  readonly strangers: Readonly<Record<string, number>>;
  readonly servers: readonly ServerRow[];
  readonly problems: readonly string[];
}

export interface ArpDirector {
  readonly host: string;
  readonly device: string;
  readonly mac?: string;
  readonly holdsVip: boolean;
  readonly error?: string;
}

export interface ArpResponder {
  readonly mac: string;
  /** The inventory host with that MAC on the LAN, when verify could tell. */
  readonly host?: string;
  readonly replies: number;
}

export interface ArpCheck {
  readonly vip: string;
  readonly status: CheckStatus;
  /** The host that sent the ARP requests, and on which device. */
  readonly checker?: string;
  readonly device?: string;
  /** The director's LAN, e.g. 192.0.2.0/24. */
  readonly lan?: string;
  readonly tool?: string;
  readonly directors: readonly ArpDirector[];
  readonly responders: readonly ArpResponder[];
  readonly notes: readonly string[];
  readonly problems: readonly string[];
}

export interface PageCheck {
  /** The inventory host the page should name; absent for address-only real servers. */
  readonly host?: string;
  readonly address: string;
  readonly port: number;
  readonly url: string;
  readonly status: CheckStatus;
  /** The name in the page's <h1>, when one came back. */
  readonly got?: string;
  readonly problem?: string;
}

/** With lvs.sessions: one user's requests to a service's session page, through its VIP. */
export interface SessionCheck {
  readonly service: string;
  readonly url: string;
  readonly status: CheckStatus;
  readonly sent: number;
  /** The session's request count each answer gave, in order (0 where none came back). */
  readonly counts: readonly number[];
  /** Answers by the real server that gave them. */
  readonly servers: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  readonly problems: readonly string[];
}

export interface HostContact {
  readonly host: string;
  readonly roles: readonly string[];
  readonly reachable: boolean;
  readonly error?: string;
  readonly stats: { readonly connections: number; readonly execs: number };
}

export interface VerifyReport {
  readonly cluster?: string;
  readonly client: string;
  /** What fetched the pages on the client: curl, wget or busybox wget (none: nothing could). */
  readonly fetcher?: string;
  readonly requests: number;
  readonly tolerance: number;
  readonly services: readonly ServiceCheck[];
  readonly arp: readonly ArpCheck[];
  readonly pages: readonly PageCheck[];
  /** Empty without lvs.sessions. */
  readonly sessions: readonly SessionCheck[];
  readonly hosts: readonly HostContact[];
  /** One line per failed check; empty when everything that could be checked passed. */
  readonly failures: readonly string[];
  readonly unreachable: readonly string[];
  readonly seconds: number;
}
