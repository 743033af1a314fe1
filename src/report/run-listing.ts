import type { CompiledRun } from '../config/compile.js';

// --list-hosts and --list-tasks: what a run would touch, from the compiled run alone (nobody is
// contacted), in the order the run takes.

export function renderHostList(run: CompiledRun): string {
  const hosts = [...run.hosts.keys()];
  return [`hosts (${hosts.length}):`, ...hosts.map((host) => `  ${host}`)].join('\n');
}

export function renderTaskList(run: CompiledRun): string {
  const blocks = [...run.hosts].map(([host, tasks]) => {
    const lines = tasks.map((task) => {
      const tags = task.tags && task.tags.length > 0 ? `  tags: ${task.tags.join(', ')}` : '';
      return `  ${task.role ? `${task.role}: ` : ''}${task.name}  (${task.type})${tags}`;
    });
    return [`${host} (${tasks.length} task${tasks.length === 1 ? '' : 's'}):`, ...lines].join('\n');
  });
  return blocks.join('\n\n');
}

/** Both listings as one JSON document (`--json`): each host, with its tasks when asked for. */
export function listingJson(run: CompiledRun, withTasks: boolean): { hosts: object[] } {
  return {
    hosts: [...run.hosts].map(([host, tasks]) =>
      withTasks
        ? { host, tasks: tasks.map((task) => ({ name: task.name, ...(task.role ? { role: task.role } : {}), type: task.type, ...(task.tags && task.tags.length > 0 ? { tags: task.tags } : {}) })) }
        : { host },
    ),
  };
}
