import { quote } from '../shell/quote.js';

// What sysvinit starts at boot is the S links of an init script in the runlevel directories;
// service and at_boot read them the same way, each in the directories its scripts are linked to.

/** Shell that prints `E enabled` when `name` has a start link (S<NN><name>) in one of `dirs`, else `E disabled`. */
export function startLinkProbe(dirs: readonly string[], name: string): string {
  const links = dirs.map((dir) => `${dir}/S[0-9][0-9]${quote(name)}`).join(' ');
  return `e=disabled; for f in ${links}; do if [ -e "$f" ]; then e=enabled; fi; done; printf 'E %s\\n' "$e"`;
}

/** Shell that prints the tool that links init scripts into runlevels: `T update-rc.d`, `T chkconfig` or `T none`. */
export const enablerProbe =
  "if command -v update-rc.d >/dev/null 2>&1; then printf 'T update-rc.d\\n'; elif command -v chkconfig >/dev/null 2>&1; then printf 'T chkconfig\\n'; else printf 'T none\\n'; fi";
