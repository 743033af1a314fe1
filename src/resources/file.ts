import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { fileMode, writtenFilePath } from '../config/values.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileCommands, writeFileCommands, type FileState } from './file-state.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';

// A whole file with its content and mode, such as the test page that names the real server.
// Writes are atomic (temp file and rename), so a web server never serves half a page.

export const fileSchema = z
  .object({
    // A file's own name: `/srv/x/` names a folder, which the write would move the temp file into
    // (or fail on) at apply time (`/srv/x/.` is refused as any path with a . segment).
    path: writtenFilePath.refine((path) => !path.endsWith('/'), { message: 'must name a file: no trailing /' }),
    content: z.string().optional(),
    mode: fileMode.default('644'),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .strict()
  .refine((spec) => spec.state === 'absent' || spec.content !== undefined, {
    // An omitted content would otherwise silently empty the file.
    message: 'content is required unless state is absent',
    path: ['content'],
  });

export type FileSpec = z.output<typeof fileSchema>;

export type FileFacts = FileState;

// `[ -f ]` is false for a directory too: without this the rename would move the temp file into it.
const NOT_REGULAR = 'not-a-regular-file';

export const file: ResourceType<FileSpec, FileFacts> = {
  name: 'file',
  schema: fileSchema,

  key: (spec) => `file ${spec.path}`,

  probe(spec) {
    const p = quote(spec.path);
    return `if [ -e ${p} ] && [ ! -f ${p} ]; then printf '${NOT_REGULAR}\\n'; else ${readFileSnippet(spec.path)}; fi`;
  },

  parse(output: ProbeOutput, spec): FileFacts {
    if (output.status !== 0) throw new Error(`reading ${spec.path} failed with status ${output.status}`);
    const lines = output.stdout.split('\n');
    if (lines.includes(NOT_REGULAR)) throw new Error(`${spec.path} exists but is not a regular file`);
    return parseFileLine(lines.find((line) => line.startsWith('F')));
  },

  plan(spec, facts) {
    const resource = `file ${spec.path}`;
    if (spec.state === 'absent') {
      if (!facts.exists) return [];
      return [{ resource, summary: `remove ${spec.path}`, diff: { kind: 'file', before: facts.content, after: '' }, commands: removeFileCommands(spec.path) }];
    }
    const content = spec.content ?? '';
    const modeNote = facts.exists && facts.mode !== spec.mode ? ` (mode ${facts.mode} -> ${spec.mode})` : '';
    if (!facts.exists || facts.content !== content) {
      const change: Change = {
        resource,
        summary: `${facts.exists ? 'update' : 'create'} ${spec.path}${modeNote}`,
        diff: { kind: 'file', before: facts.content, after: content },
        commands: writeFileCommands(spec.path, content, spec.mode),
      };
      return [change];
    }
    if (facts.mode === spec.mode) return [];
    // Same content: a chmod is enough and keeps the file's inode, owner and timestamps.
    return [
      {
        resource,
        summary: `chmod ${spec.path} ${facts.mode ?? '(unknown)'} -> ${spec.mode}`,
        diff: { kind: 'value', before: facts.mode ?? '(unknown)', after: spec.mode },
        commands: [command('chmod', spec.mode, '--', spec.path)],
      },
    ];
  },

  after(spec) {
    return spec.state === 'absent' ? { exists: false, content: '' } : { exists: true, content: spec.content ?? '', mode: spec.mode };
  },

  // The manifest needs only the path to remove the file, not its content.
  owns: (spec) => (spec.state === 'present' ? [{ id: `file ${spec.path}`, spec: { ...spec, content: '' } }] : []),

  // A file a task wrote goes; one a task removes stays removed. Parent directories stay: `mkdir -p`
  // does not tell whether it created them.
  reset: {
    plan: (spec, facts, context) => (spec.state === 'present' ? file.plan({ ...spec, state: 'absent' }, facts, context) : []),
    after: (spec, facts) => (spec.state === 'present' ? ABSENT_FILE : facts),
  },
};
