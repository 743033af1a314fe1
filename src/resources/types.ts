import type { z } from 'zod';

/** What a host looks like to a planner beyond the resource's own facts. */
export interface HostContext {
  /** The inventory name of the host, for messages. */
  readonly host: string;
  /**
   * Real-server addresses whose hosts failed to prepare in this run: a planner that would add
   * one of them to a director's table leaves it out (and `after` predicts the table without it),
   * so traffic never goes to a server that is not ready. Servers already in the table stay.
   */
  readonly withheld?: ReadonlySet<string>;
  /**
   * On a director: for each firewall mark of a fwmark service its tasks declare, the addresses of
   * the service's DR and TUN real servers that take new connections (weight above 0). A mark that
   * comes to cover a new address asks each of them to serve it (the VIP on its lo or tunl0), so
   * the marks' change names them (Change.joiningAddresses).
   */
  readonly markServers?: ReadonlyMap<number, readonly string[]>;
  /**
   * On a director: the firewall marks whose rules come to cover an address they did not (its
   * fwmark tasks against the table as read). IPVS cannot send one address of a fwmark service
   * apart from the others: a withheld server of such a mark's service takes no new connection at
   * all (weight 0) until a run in which its host is ready, as under a new forwarding method.
   */
  readonly gainingMarks?: ReadonlySet<number>;
  /**
   * Debian packages that earlier tasks of this host's run install: a planner that finds a program
   * missing waits for it instead of stopping the host (see missing-tool.ts).
   */
  readonly installing?: ReadonlySet<string>;
  /**
   * For a reset planner that prunes an object: the ids of the objects this host's tasks declare in
   * this run (ownership ids such as `address 198.51.100.50 on eth0`). What one of them now holds
   * is handed over, not removed: keepalived pruned leaves the VIPs and virtual services the
   * address and ipvs tasks take over from it.
   */
  readonly declared?: ReadonlySet<string>;
  /**
   * The resources (a change's `resource`, such as `file /etc/memcached.conf`) that earlier tasks
   * of this host's run change: a service that reads one of them at its start is restarted.
   */
  readonly changed?: ReadonlySet<string>;
  /**
   * A director switches this real server between NAT and DR or TUN in this run: its default route
   * changes in the reroute wave, once the directors send by the new method, or, where its NAT
   * replies have a source route of their own, where it serves the DR and TUN replies (see
   * engine/host-plan.ts, rerouteDefault).
   */
  readonly rerouting?: boolean;
  /**
   * On a director: the VIPs it removes after balance that another director of the run adds and
   * announces in balance, each with those directors. The removal runs first thing in balance
   * instead (see engine/vip-handover.ts), so the old director stops answering ARP for the VIP as
   * the new one takes it. On a keepalived director, also every VIP the inventory gives only to
   * other directors still live in the run: the first config it writes leaves such a VIP out
   * (engine/vrrp-moves.ts).
   */
  readonly handingOver?: ReadonlyMap<string, readonly string[]>;
  /**
   * On a director: the VIPs it adds and announces in balance that other directors of the run give
   * up, each with those directors. Its add and announce wait in a second exec until every one of
   * them let the VIP go (see engine/vip-handover.ts).
   */
  readonly takingOver?: ReadonlyMap<string, readonly string[]>;
  /**
   * The ownership ids of the objects the host's manifest records (`address 198.51.100.50 on
   * tunl0`): what lvsprov made there, which pruning removes in the ordered apply's waves. A
   * planner that removes what no task declares (stray_address) leaves those to it.
   */
  readonly recorded?: ReadonlySet<string>;
  /** Set for a reset planner run by an apply that prunes the object (not by `reset`). */
  readonly pruning?: boolean;
  /** What a planner may need to know of the other hosts (apply only; see ClusterView). */
  readonly cluster?: ClusterView;
}

/**
 * The run's view of the cluster beyond one host. keepalived needs it: a VRRP peer its new config
 * drops must be retired by this run (stopped before the others stop advertising to it), or it
 * becomes a second master.
 */
export interface ClusterView {
  /** The inventory host at each address a host is known by (its address, its `dip` var). */
  readonly hostAt: ReadonlyMap<string, string>;
  /** The hosts this run reads and applies (after --limit). */
  readonly inRun: ReadonlySet<string>;
  /**
   * Hosts of the inventory outside the run that it may still open to stop a dropped peer's
   * keepalived: no play reaches them, and --limit does not leave them out.
   */
  readonly retirable?: ReadonlySet<string>;
  /** Whether the run removes what no task declares (not with --tags or --skip-tags, which keep it). */
  readonly prunes: boolean;
  /** Addresses the operator says run no keepalived any more (`--stopped-peer`): dropped freely. */
  readonly stoppedPeers: ReadonlySet<string>;
}

/**
 * One edit to a host. `commands` are complete shell lines whose every inventory-derived value
 * was quoted with shell/quote.ts; they run in order under `set -e` in the batched apply.
 */
export interface Change {
  /** Which resource this change belongs to, e.g. `sysctl net.ipv4.ip_forward`. */
  readonly resource: string;
  /** One line a person reads in the plan, e.g. `set net.ipv4.ip_forward 0 -> 1`. */
  readonly summary: string;
  /** Before and after, for --diff. Files carry their full text; the report renders a unified diff. */
  readonly diff?: { readonly before: string; readonly after: string; readonly kind: 'file' | 'value' };
  readonly commands: readonly string[];
  /** When the change runs in the ordered apply (see ChangePhase); absent means 'prepare'. */
  readonly phase?: ChangePhase;
  /**
   * On a director's change that adds a real server to a service, or asks more of one it has (a
   * new forwarding method, a weight above 0 after 0): which one. The engine holds the change back
   * when the host serving that address failed to prepare, so no director sends traffic to a server
   * whose VIP, tunnel, routes or web server is not ready.
   */
  readonly joining?: RealServerRef;
  /**
   * On a director's change that may add several real servers at once (a keepalived config): their
   * addresses. Where one's host failed to prepare, the engine plans the director again with that
   * address withheld (HostContext.withheld), and the planner leaves the server out.
   */
  readonly joiningAddresses?: readonly string[];
  /**
   * On a director's change that deletes a real server from its IPVS table (phase 'withdraw'),
   * alone or with its whole service: which one. The planner also emits the quiesce (weight 0,
   * phase 'balance') with the same `leaving`; between the two waves the engine drains it: it
   * waits until this director shows no active connection to the server (bounded by
   * --drain-timeout).
   */
  readonly leaving?: RealServerRef;
  /**
   * On a director's edit that takes a real server that stays in its service to weight 0: which
   * one. It takes no new connection from then on, as a leaving one once quiesced, so within
   * balance it goes where a quiesce goes (engine/host-plan.ts, balanceStep).
   */
  readonly quiets?: RealServerRef;
  /**
   * On a restart of a daemon that carries a pool's traffic (phase 'retire'): a daemon may cut its
   * open connections as it restarts, so every director that keeps this host's real server at
   * weight 0 drains it first, as it drains a leaving one, but keeps it (engine/wave-plan.ts).
   */
  readonly restartsPool?: true;
  /**
   * On a route of this host's replies through a director (a NAT real server's default, or its
   * source route's table) that lvsprov set and that now moves to another gateway address: the new
   * one may be an address a director adds in this run's balance (the floating gateway keepalived
   * takes when lvs.ha comes to a NAT cluster), so the move waits for the reroute wave; until then
   * the replies keep the way the directors' live connections came by (engine/host-plan.ts).
   */
  readonly movesGateway?: true;
  /**
   * On a director's edit that switches a real server between NAT and DR or TUN: which one. The
   * kernel keeps an established connection's method; new ones take the new method at once, so the
   * real server's default route (its replies' way back) changes right after, in the reroute wave.
   */
  readonly switching?: RealServerRef;
  /**
   * On a director's edit that changes a real server's forwarding method (DR, TUN, NAT): which
   * one, and the methods. The connections made before keep the old method
   * (resources/ipvs/bound-connections.ts), and the edit lists them; the engine drains those on
   * this director before the retire wave takes the old method's setup off the real server.
   */
  readonly rebinds?: Rebinding;
  /**
   * On a director's change that decides which virtual service a new connection meets (its
   * firewall marks): it runs in balance after the IPVS services and real servers are added and
   * edited, and before any real server is quiesced (see engine/host-plan.ts).
   */
  readonly steers?: boolean;
  /**
   * On a director's gratuitous ARP for an address it just added (balance): the address. Where
   * another director gives that VIP up in the same run, the router sends its packets here from
   * now on, and that director's drain stops waiting on the connections that get none any more.
   */
  readonly announces?: string;
  /**
   * On a director's announce: a command that fails, saying why, unless nobody on the device's
   * segment answers ARP for the address (resources/arp-dad.ts), and what it asks. The engine runs
   * it before the add only where an old holder of the VIP may still hold it (engine/vip-handover.ts).
   */
  readonly holderCheck?: { readonly summary: string; readonly command: string };
  /**
   * On a director's keepalived hand-over (retire): its VRRP peers' addresses; on a keepalived
   * config that drops peers: those. The engine holds the change's wave back while such a peer's
   * host failed before its own keepalived stopped: that peer, no longer hearing this director
   * (dead, or advertising elsewhere), would take the VIPs as a second master.
   */
  readonly vrrpPeers?: readonly string[];
  /**
   * On a director's change that adds a VIP which other hosts answered ARP for when it was read:
   * the VIP, its device and their MACs. The engine refuses the host unless a host of the run gives
   * that VIP up (`releases`): two hosts answering for one VIP split the router's clients.
   */
  readonly claim?: { readonly address: string; readonly device: string; readonly by: readonly string[] };
  /** On a change that takes addresses off a host (a VIP pruned, a keepalived stopped): those addresses. */
  readonly releases?: readonly string[];
  /**
   * On a change to a director's firewall marks: each address a mark covers, before the change or
   * after it. A fwmark service's connections came to those addresses, and a drain asks of each
   * whether this director still gets its packets (engine/mark-vips.ts).
   */
  readonly marks?: readonly MarkedAddress[];
  /**
   * On a start or restart of a service that names a turn (its `one_at_a_time`): the turn. Within
   * a wave the engine runs the hosts with changes of one turn one after another, and holds back
   * those after one that failed (engine/turns.ts).
   */
  readonly turn?: string;
}

/** A real server whose forwarding method a director changes, `from` one `to` another (`dr`, `tun`, `nat`). */
export interface Rebinding {
  readonly server: RealServerRef;
  readonly from: string;
  readonly to: string;
}

/** An address whose packets a director's firewall marks give a mark (fwmark services). */
export interface MarkedAddress {
  readonly mark: number;
  readonly address: string;
}

/**
 * The waves of an ordered apply, in order; every host of a wave runs in parallel and a wave starts
 * once the one before it ended on every host.
 * - prepare: what adds or changes state on real servers and routers (VIP on lo or tunl0, ARP
 *   suppression, tunnel, rp_filter, web server, routes) and a director's non-IPVS preparation
 *   (modules, sysctls): everything a real server needs before a director sends to it.
 * - balance: a director's IPVS edits that add services and real servers or change weights,
 *   schedulers, persistence and forwarding methods, then its VIP addresses (a VIP answers only
 *   once its services are there), and the quiesce (weight 0) of every leaving real server.
 * - reroute: the default route of a real server whose forwarding a director switched between NAT
 *   and DR or TUN in balance: a NAT reply must pass the director, a DR or TUN reply must not (its
 *   source is the VIP, which the director drops as a martian); after this wave the engine drains
 *   the leaving servers.
 * - withdraw: a director deletes leaving real servers and services, and the VIP addresses it no
 *   longer serves.
 * - retire: real-server and router removals (VIP off lo or tunl0, arptables rules, boot hooks,
 *   routes): once no director sends to them any more.
 */
export type ChangePhase = 'prepare' | 'balance' | 'reroute' | 'withdraw' | 'retire';

export const CHANGE_PHASES: readonly ChangePhase[] = ['prepare', 'balance', 'reroute', 'withdraw', 'retire'];

/** A real server of one IPVS service, as ipvsadm selects it on a director. */
export interface RealServerRef {
  /** The service's ipvsadm selector words, e.g. ['-t', '198.51.100.50:80'] or ['-f', '1']. */
  readonly service: readonly string[];
  /** The real server as ipvsadm -r takes it and -L -n prints it: RIP:PORT ([RIP]:PORT for IPv6). */
  readonly server: string;
  /** The real server's address alone (RIP), to find the inventory host that serves it. */
  readonly address: string;
  /** The service's own address (VIP); absent for fwmark services, whose VIPs the table does not name. */
  readonly vip?: string;
  /**
   * A fwmark service's VIPs: every address this director's firewall marks (lvsprov's fwmark
   * table) give the service's mark, before or after the run; absent where no such table names it.
   */
  readonly vips?: readonly string[];
}

/**
 * A resource type: a schema for the desired state, a probe that reads the current state in one
 * shell snippet, a pure parser of that snippet's output, and a pure planner.
 *
 * The probe snippet runs inside one batched read script; its stdout and exit status come back to
 * `parse`. `plan` returns no changes when the host already matches: dry-run is the pipeline
 * stopping after plan. `after` gives the facts the host will have once the changes ran, so a later
 * task touching the same `key` is planned against the predicted state without a second read.
 */
export interface ResourceType<Spec, Facts> {
  readonly name: string;
  readonly schema: z.ZodType<Spec>;
  /** Identity of the managed object on one host; tasks with equal keys share facts. */
  key(spec: Spec): string;
  probe(spec: Spec): string;
  /**
   * Probes an older lvsprov wrote for the spec, whose output `parse` still reads: a manifest that
   * recorded one is trusted like the current probe (ownership/prune.ts), so an upgrade does not
   * keep what a run no longer declares for one run more.
   */
  legacyProbes?(spec: Spec): readonly string[];
  parse(output: ProbeOutput, spec: Spec): Facts;
  plan(spec: Spec, facts: Facts, context: HostContext): Change[];
  after(spec: Spec, facts: Facts, context?: HostContext): Facts;
  /**
   * What the read found that is neither a change nor drift but an operator should know, one line
   * each (a real server keepalived took out because its health check fails). Shown with the plan,
   * in --check too; never changes the exit code.
   */
  notes?(spec: Spec, facts: Facts): ResourceNote[];
  /** Debian packages the task leaves installed, for the planners of later tasks (HostContext.installing). */
  provides?(spec: Spec): readonly string[];
  /**
   * What `lvsprov reset` does with this task; absent when reset leaves the resource as it is
   * (links, packages). The engine runs it through the same read/plan/apply batches.
   */
  readonly reset?: ResetPlanner<Spec, Facts>;
  /**
   * The objects a spec puts on a host, which lvsprov records as its own (see ownership/): each one
   * is removed by `reset` planned for its `spec` once no task declares its `id` any more. Absent:
   * one object per task, named by `key`, when the type has a reset planner (none without one).
   */
  owns?(spec: Spec): OwnedObject<Spec>[];
  /**
   * One spec that removes both objects at once (two rules of one save file, two keys of one
   * sysctl file), so that a removal rewrites a shared file once; undefined when they stay apart.
   */
  mergeOwned?(a: Spec, b: Spec): Spec | undefined;
  /**
   * The objects of other types this spec's object holds (keepalived: its VIPs as addresses, its
   * virtual services as ipvs services), each with a spec of its type. Pruning hands such an object
   * over when lvsprov's own task made it: its record is dropped and its type's `release` runs,
   * never its reset, which would take it from the new holder. And when this object is removed and
   * takes them along (keepalived's clean stop), `release` runs on the facts the host's own tasks
   * of that type predict, so that what they persist (the ipvs save file) forgets them too.
   */
  takesOver?(spec: Spec): ReadonlyArray<{ readonly id: string; readonly type: string; readonly spec: unknown }>;
  /**
   * What this type does when another holds or removes one of its objects: the live object is left
   * to the other, only what this type persists about it goes (ipvs: the save file without it).
   */
  readonly release?: ResetPlanner<Spec, Facts>;
}

/**
 * One thing lvsprov made on a host, as its ownership manifest records it: `id` makes it the same
 * object across runs (e.g. `address 198.51.100.50 on lo`); `spec` is a spec whose reset planner
 * removes exactly this object, of this type or, when `type` names another one, of that type (a
 * sysctl task's file is a file).
 */
export type OwnedObject<Spec> =
  | { readonly id: string; readonly spec: Spec; readonly type?: undefined }
  | { readonly id: string; readonly spec: unknown; readonly type: string };

/**
 * Undoes what a task's `plan` put on a host, and nothing else: the same facts, another planner.
 * Like `plan`, it returns no changes once the host holds nothing of the task's (a second reset
 * changes nothing), and `after` predicts the facts its changes leave, for later tasks on the
 * same key.
 */
export interface ResetPlanner<Spec, Facts> {
  plan(spec: Spec, facts: Facts, context: HostContext): Change[];
  after(spec: Spec, facts: Facts): Facts;
}

export interface ProbeOutput {
  readonly stdout: string;
  readonly status: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyResourceType = ResourceType<any, any>;

/**
 * A line the read found that is no change (ResourceType.notes): its text for people, and its
 * reason for the code that acts on it (status tells a real server keepalived took out from one
 * apply will add by the reason, never by the text).
 */
export interface ResourceNote {
  readonly text: string;
  readonly reason?: NoteReason;
}

/**
 * health-check-down: keepalived took `server` (`192.0.2.12:80`) out of `service` (ipvsadm's name,
 * `TCP 198.51.100.50:80`) because its health check fails. below-quorum: keepalived holds `service`
 * below its quorum, with its sorry server in.
 */
export type NoteReason = { readonly kind: 'health-check-down'; readonly service: string; readonly server: string } | { readonly kind: 'below-quorum'; readonly service: string };
