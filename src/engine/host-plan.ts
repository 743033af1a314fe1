import type { CompiledTask } from '../config/compile.js';
import { ProbeError } from '../errors.js';
import type { SectionResult } from './batch-script.js';
import type { PlannedChange } from './events.js';
import { taskPlanners, type RunMode, type TaskPlanner } from './planners.js';

// The pure middle of a host's pipeline: which probes one read must run, and the plan computed
// from their output. apply, reset and status all read and plan through this, so a host's plan
// means the same thing whichever command asked for it.

export interface HostReadPlan {
  readonly planners: readonly TaskPlanner[];
  /** Distinct probe scripts, in the order of the read script's sections. */
  readonly probes: readonly string[];
}

export function hostReadPlan(tasks: readonly CompiledTask[], mode: RunMode): HostReadPlan {
  const planners = taskPlanners(tasks, mode);
  return { planners, probes: [...new Set(planners.map(({ type, task }) => type.probe(task.spec)))] };
}

/**
 * Plan every task against the sections its probes produced (section i = probes[i]). Later tasks
 * are planned against the state earlier ones predict, so no second read is needed.
 */
export function planHost(read: HostReadPlan, sections: ReadonlyMap<number, SectionResult>, host: string): PlannedChange[] {
  const changes: PlannedChange[] = [];
  const predicted = new Map<string, unknown>();
  for (const { task, type, plan, after } of read.planners) {
    const key = `${type.name}:${type.key(task.spec)}`;
    const section = sections.get(read.probes.indexOf(type.probe(task.spec)));
    let facts: unknown;
    try {
      facts = predicted.has(key) ? predicted.get(key) : type.parse(section ?? { stdout: '', status: 255 }, task.spec);
      for (const change of plan(facts, { host })) {
        changes.push({ ...change, task: task.name, ...(task.role ? { role: task.role } : {}) });
      }
    } catch (error) {
      throw new ProbeError(`task "${task.name}": ${(error as Error).message}`);
    }
    predicted.set(key, after(facts));
  }
  return changes;
}
