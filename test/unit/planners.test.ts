import { describe, expect, it } from 'vitest';
import type { CompiledTask } from '../../src/config/compile.js';
import { taskPlanners } from '../../src/engine/planners.js';
import { resourceTypes } from '../../src/resources/registry.js';

// apply and reset differ only in which planner runs, over which tasks, in which order.

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

  it('reset plans newest first and skips types it leaves alone (packages, links)', () => {
    expect(taskPlanners(webpage, 'reset').map((planner) => planner.task.name)).toEqual(['serve the test page', 'test page']);
  });

  it('reset plans with the reset planner: a page that is there is removed', () => {
    const [, page] = taskPlanners(webpage, 'reset');
    const facts = { exists: true, content: 'rs1\n', mode: '644' };
    expect(page?.plan(facts, { host: 'rs1' }).map((change) => change.commands)).toEqual([['rm -f -- /var/www/lvsprov/index.html']]);
    expect(page?.after(facts, { host: 'rs1' })).toEqual({ exists: false, content: '' });
    expect(taskPlanners(webpage, 'apply')[2]?.plan(facts, { host: 'rs1' })).toEqual([]);
  });
});
