import { describe, expect, it } from 'vitest';
import type { CompiledTask } from '../../src/config/compile.js';
import { taskPlanners } from '../../src/engine/planners.js';
import { resourceTypes } from '../../src/resources/registry.js';

// apply plans every task; reset plans none of them: it prunes everything owned.

const task = (name: string, type: CompiledTask['type'], spec: unknown): CompiledTask => ({ name, type, spec: resourceTypes[type].schema.parse(spec) });

const webpage: CompiledTask[] = [
  task('web server', 'package', { name: 'busybox', creates: '/bin/busybox' }),
  task('tunl0 up', 'link', { device: 'tunl0' }),
  task('test page', 'file', { path: '/var/www/lvsprov/index.html', content: 'rs1\n' }),
  task('serve the test page', 'service', { name: 'lvsprov-web', exec: ['/bin/busybox', 'httpd', '-f'] }),
];

describe('task planners', () => {
  it('apply plans every task in playbook order', () => {
    expect(taskPlanners(webpage, 'apply').map((planner) => planner.task.name)).toEqual(['web server', 'tunl0 up', 'test page', 'serve the test page']);
  });

  it('reset plans no task: it removes what the ownership manifest records (see prune.test.ts)', () => {
    expect(taskPlanners(webpage, 'reset')).toEqual([]);
  });
});
