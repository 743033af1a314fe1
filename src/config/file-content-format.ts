import type { OutputFormat } from './output-formats.js';

// A `file` task's content that prints variables (`Environment=OPT={{opt}}`) is written for what
// the file is, as a template task's is: a value from the inventory with a line feed would add a
// directive to a unit, and one with `$(...)` would run when sh sources the file. The task may say
// its `format`; without one, the path tells: systemd's unit folders and suffixes are units, the
// folders of files that init scripts source and *.sh / *.env are shell, anything else is text (one
// line, no control character).

const UNIT_FOLDER = /^\/(?:etc|lib|usr\/lib|usr\/local\/lib|run)\/systemd\//;
const UNIT_SUFFIX = /\.(?:service|socket|timer|mount|automount|path|target|slice|scope|swap|network|netdev|link)$/;
const SOURCED_FOLDER = /^\/etc\/(?:default|sysconfig|profile\.d|conf\.d)\//;
const SOURCED_SUFFIX = /\.(?:sh|env)$/;

export function impliedFormat(path: string): OutputFormat {
  if (UNIT_FOLDER.test(path) || UNIT_SUFFIX.test(path)) return 'systemd-unit';
  if (SOURCED_FOLDER.test(path) || SOURCED_SUFFIX.test(path)) return 'shell-env';
  return 'text';
}
