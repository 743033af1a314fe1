import type { z } from 'zod';

/** What a host looks like to a planner beyond the resource's own facts. */
export interface HostContext {
  /** The inventory name of the host, for messages. */
  readonly host: string;
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
  parse(output: ProbeOutput, spec: Spec): Facts;
  plan(spec: Spec, facts: Facts, context: HostContext): Change[];
  after(spec: Spec, facts: Facts): Facts;
  /**
   * What `lvsprov reset` does with this task; absent when reset leaves the resource as it is
   * (links, packages). The engine runs it through the same read/plan/apply batches.
   */
  readonly reset?: ResetPlanner<Spec, Facts>;
}

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
