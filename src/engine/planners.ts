import type { CompiledTask } from '../config/compile.js';
import { resourceTypes } from '../resources/registry.js';
import type { AnyResourceType, Change, HostContext } from '../resources/types.js';

// apply and reset are one pipeline with two planners. This picks, for a mode, which tasks are
// planned, in which order, and by which planner; reading and applying do not know the mode.

export type RunMode = 'apply' | 'reset';

export interface TaskPlanner {
  readonly task: CompiledTask;
  readonly type: AnyResourceType;
  plan(facts: unknown, context: HostContext): Change[];
  after(facts: unknown, context: HostContext): unknown;
}

export function taskPlanners(tasks: readonly CompiledTask[], mode: RunMode): TaskPlanner[] {
  const typed = tasks.map((task) => ({ task, type: resourceTypes[task.type] as AnyResourceType }));
  if (mode === 'apply') {
    return typed.map(({ task, type }) => ({
      task,
      type,
      plan: (facts, context) => type.plan(task.spec, facts, context),
      after: (facts, context) => type.after(task.spec, facts, context),
    }));
  }
  // Reset plans no task: it removes everything the host's ownership manifest records (see
  // ownership/), newest first, with each type's reset planner.
  return [];
}
