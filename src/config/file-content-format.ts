import type { OutputFormat } from './output-formats.js';

// A `file` task's content that prints variables (`Environment=OPT={{opt}}`) is written for what
// the file is, as a template task's is: a value from the inventory with a line feed would add a
// directive to a unit, and one with `$(...)` would run when sh sources the file. The task may say
// its `format`; without one, the path tells: systemd's unit folders and suffixes are units, the
// folders of files that init scripts source and *.sh / *.env are shell, and so are the files sh
// runs (init scripts, rc.local, crontabs, cron's and ifupdown's folders, /usr/local/bin, login
// shells' profiles, dhclient's hooks) and any file whose mode lets it run: a value printed into a
// program would be a command there. ifupdown's interfaces files hand their up/down lines to sh
// but hold words elsewhere, which double quotes would break: each value is one plain word there,
// as in other programs' files some of whose lines reach a shell by that program's own quoting
// (modprobe.d's install lines, logrotate's postrotate scripts, apt's hooks, udev's RUN, csh's
// startup files) or grant commands (sudoers). Anything else is text (one line, no control character).

const UNIT_FOLDER = /^\/(?:etc|lib|usr\/lib|usr\/local\/lib|run)\/systemd\/|^\/etc\/xdg\/systemd\/|\/\.config\/systemd\//;
const UNIT_SUFFIX = /\.(?:service|socket|timer|mount|automount|path|target|slice|scope|swap|network|netdev|link)$/;
const SOURCED_FOLDER = /^\/etc\/(?:default|sysconfig|profile\.d|conf\.d)\//;
const SOURCED_SUFFIX = /\.(?:sh|env)$/;
const RUN_BY_SH = /^\/(?:etc\/(?:init\.d|rc\.d|cron\.(?:d|hourly|daily|weekly|monthly)|network\/if-[a-z-]+\.d|NetworkManager\/dispatcher\.d|ppp\/ip(?:v6)?-(?:up|down)\.d|X11\/Xsession\.d|bash_completion\.d|zsh)\/|etc\/(?:rc\.local|anacrontab|ppp\/ip(?:v6)?-(?:up|down))$|usr\/local\/s?bin\/)/;
// cron hands each command of the system crontab and of a user's crontab to sh; login shells source
// the profiles and rc files; dhclient-script sources its hooks. None of these needs an execute bit.
const IFUPDOWN_FILE = /^\/etc\/network\/interfaces(?:$|\.d\/)/;
const SOURCED_OR_RUN_FILE = /^\/(?:etc\/crontab$|var\/spool\/cron\/|etc\/(?:profile|bash\.bashrc|bashrc|zshenv|zshrc|zprofile|zlogin|zlogout)$|etc\/dhcp\/dhclient-(?:enter|exit)-hooks\.d\/)|\/\.(?:profile|bashrc|bash_profile|bash_login|bash_logout|zshenv|zshrc|zprofile|zlogin|zlogout)$/;
const WORDS_FILE = /^\/(?:(?:etc|lib|usr\/lib|run)\/(?:modprobe\.d|udev\/rules\.d)\/|etc\/(?:logrotate\.d\/|logrotate\.conf$|apt\/apt\.conf\.d\/|apt\/apt\.conf$|sudoers$|sudoers\.d\/|csh\.(?:cshrc|login|logout)$))|\/\.(?:cshrc|tcshrc|login)$/;

/** The format a file task's path (or mode) implies, and which of the two says so. */
export function formatImplied(path: string, mode?: unknown): { format: OutputFormat; by: string } {
  const byPath = `as the path ${path} implies`;
  if (UNIT_FOLDER.test(path) || UNIT_SUFFIX.test(path)) return { format: 'systemd-unit', by: byPath };
  if (SOURCED_FOLDER.test(path) || SOURCED_SUFFIX.test(path) || RUN_BY_SH.test(path) || SOURCED_OR_RUN_FILE.test(path)) return { format: 'shell-env', by: byPath };
  if (IFUPDOWN_FILE.test(path)) return { format: 'ifupdown', by: byPath };
  if (WORDS_FILE.test(path)) return { format: 'words', by: byPath };
  // The mode as the task writes it (YAML may read 0755 as the number 755): digits of an octal mode.
  const digits = String(mode ?? '');
  if (/^0?[0-7]{3,4}$/.test(digits) && (parseInt(digits, 8) & 0o111) !== 0) return { format: 'shell-env', by: `as its mode ${digits} implies: the file is run` };
  return { format: 'text', by: byPath };
}

// The formats whose values are single words of letters, digits and _ . , : / @ + = -: no blank,
// quote, `$`, `%` or line break, so they stay inert in a file sh sources and in a unit as well.
const WORD_FORMATS: readonly OutputFormat[] = ['ip-batch', 'ipvsadm-rules', 'memcached-conf', 'ifupdown', 'words', 'php-ini', 'php'];

/** What a file of an implied format is, and what a value written for another format would do there. */
const DANGER: Partial<Record<OutputFormat, { what: string; harm: string }>> = {
  'shell-env': { what: 'a file sh sources or runs', harm: 'reach sh unescaped ($(...) would run)' },
  'systemd-unit': { what: 'a systemd unit', harm: 'be read as unit syntax' },
  ifupdown: { what: "an ifupdown interfaces file, whose up and down lines sh runs", harm: 'reach sh unescaped (; or $(...) would run a command)' },
  words: { what: 'a file whose lines a program may hand to a shell or read as commands', harm: 'reach that shell unescaped (; or $(...) would run a command)' },
};

/**
 * Why a template's or a file task's declared format cannot write `dest`, or undefined: for a file
 * sh sources or runs, or a unit, a value written as text, HTML or sysctl would reach sh unescaped
 * (`$(...)` or `;` runs as root) or add a directive to the unit. A format of single words fits
 * any of them.
 */
export function formatForDest(declared: OutputFormat, dest: string, mode?: unknown): string | undefined {
  const implied = formatImplied(dest, mode);
  if (implied.format === 'text' || implied.format === declared || WORD_FORMATS.includes(declared)) return undefined;
  const { what, harm } = DANGER[implied.format] ?? DANGER['systemd-unit']!;
  return `format ${declared} cannot write ${dest}: it is ${what} (${implied.by}), where a value written as ${declared} would ${harm}; say format: ${implied.format}`;
}
