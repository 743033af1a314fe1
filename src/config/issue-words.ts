import type { z } from 'zod';
import { defOf, describeSchema, describeValue, unwrapSchema } from './schema-words.js';
import { nearestNames } from './suggest.js';
import { describeCharacter, invisibleNote } from './text-safety.js';

// zod's messages, rewritten to say what was expected and what was found instead:
//   expected an integer 1-65535, got the string "80" (the quotes make it a string: write 80)
// Only issues whose schema set no message of its own come here: a schema's own message wins.

type RawIssue = z.core.$ZodRawIssue;

const YAML11_BOOLEANS = /^(yes|no|on|off|y|n)$/i;
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A hint for the classic type mistakes of YAML: `yes` is a string in YAML 1.2, `"80"` is not a number. */
function typeHint(expected: string | undefined, input: unknown): string {
  if (expected === 'boolean' && typeof input === 'string') {
    if (YAML11_BOOLEANS.test(input)) return ` (YAML 1.2 reads ${input} as a string: write true or false)`;
    if (/^(true|false)$/i.test(input.trim())) return ` (the quotes make it a string: write ${input.trim().toLowerCase()} without them)`;
  }
  if (expected === 'number' && typeof input === 'string' && NUMERIC.test(input.trim())) return ` (the quotes make it a string: write ${input.trim()} without them)`;
  if (expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')) return ' (put it in quotes to make it a string)';
  return '';
}

function sizeMessage(issue: RawIssue & { code: 'too_big' | 'too_small' }): string | undefined {
  const input = issue.input;
  const limit = issue.code === 'too_big' ? `at most ${String(issue.maximum)}` : `at least ${String(issue.minimum)}`;
  // 'int': beyond a safe integer (2^53 - 1), which .int() checks before the schema's own range.
  if (issue.origin === 'number' || issue.origin === 'int') return `expected ${describeSchema(issue.schema)}, got ${String(input)}`;
  if (issue.origin === 'array' && Array.isArray(input)) return `expected ${limit} item${Number(issue.code === 'too_big' ? issue.maximum : issue.minimum) === 1 ? '' : 's'}, got ${input.length}`;
  if (issue.origin === 'string' && typeof input === 'string') {
    return issue.code === 'too_small' && Number(issue.minimum) === 1 ? 'must not be empty' : `expected ${limit} characters, got ${input.length}`;
  }
  return undefined;
}

/**
 * For a key refused for a character that is not ASCII: which one, since a Cyrillic е or a
 * fullwidth ｗ shows as the letter it resembles (`s_tеxt` reads as s_text).
 */
function lookalikeNote(text: string): string {
  const found = /[^\x20-\x7e]/u.exec(text)?.[0];
  return found === undefined ? '' : ` (it holds ${describeCharacter(found)}, which is not an ASCII letter or digit)`;
}

/** The contextual error map passed to every parse of user input. */
export function issueMessage(issue: RawIssue): string | undefined {
  const got = describeValue(issue.input);
  switch (issue.code) {
    case 'invalid_type': {
      // A failed .int() is raised by the check; the schema it belongs to knows the range.
      const owner = issue.schema ?? issue.inst;
      const expected = describeSchema(owner);
      if (issue.input === undefined) return `missing: expected ${expected}`;
      return `expected ${expected}, got ${got}${typeHint(defOf(unwrapSchema(owner))?.type, issue.input)}`;
    }
    case 'too_big':
    case 'too_small':
      return sizeMessage(issue);
    case 'invalid_value': {
      const message = `expected ${describeSchema(issue.inst)}, got ${got}`;
      const [near] = typeof issue.input === 'string' ? nearestNames(issue.input, issue.values.map(String), 1) : [];
      return near ? `${message}; did you mean \`${near}\`?` : message;
    }
    case 'invalid_union':
      return `expected ${describeSchema(issue.inst)}, got ${got}`;
    case 'invalid_key': {
      const why = issue.issues.map((inner) => inner.message).join('; ');
      // A name's own message may have said it already (hostName does).
      const note = typeof issue.input === 'string' && !why.includes('an invisible character') ? invisibleNote(issue.input) || lookalikeNote(issue.input) : '';
      return `bad key ${describeValue(issue.input).replace(/^the string /, '')}: ${why}${note}`;
    }
    case 'invalid_format':
      return issue.format === 'regex' ? `must match ${String(issue.pattern)}, got ${got}` : undefined;
    default:
      return undefined;
  }
}

/** Options for safeParse of anything a user wrote: these messages, and the input kept on each issue. */
export const userInputParse = { error: issueMessage, reportInput: true } as const;
