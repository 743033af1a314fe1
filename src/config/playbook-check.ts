import type { ConfigProblem } from '../errors.js';
import { ANY_VARIABLE, checkTemplate } from './template-check.js';
import { parseTemplate, TemplateSyntaxError } from './template-render.js';
import type { TaskEntry } from './playbook-schema.js';
import { strings } from './role-check.js';
import type { YamlSource } from './yaml-source.js';

// A playbook's own tasks read any variable of the inventory, so their names cannot be checked as
// a role's are; what a template may do can: a helper handlebars would run (`log` prints to the
// terminal), a partial, a block without its value, `../` above the top. Checked once, when the
// playbook loads, at the value that says it, rather than failing (or printing) per host.

/** Problems of the templates in the tasks of each play, at the string that holds each. */
export function checkPlaybookTasks(source: YamlSource, plays: ReadonlyArray<{ readonly tasks: readonly TaskEntry[] }>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  plays.forEach((play, playIndex) => {
    play.tasks.forEach((task, taskIndex) => {
      for (const [key, value] of Object.entries(task)) {
        // loop and when hold one expression, with or without its braces (a loop's list written in place holds values).
        const text = (raw: string): string => ((key === 'loop' || key === 'when') && typeof value === 'string' && !raw.includes('{{') ? `{{${raw}}}` : raw);
        for (const [raw, path] of strings(value, [playIndex, 'tasks', taskIndex, key])) {
          const template = text(raw);
          if (!template.includes('{{')) continue;
          try {
            for (const problem of checkTemplate(parseTemplate(template), ANY_VARIABLE)) problems.push(source.problem(path, problem.message));
          } catch (error) {
            if (error instanceof TemplateSyntaxError) problems.push(source.problem(path, error.message));
            else throw error;
          }
        }
      }
    });
  });
  return problems;
}
