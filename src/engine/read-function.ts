import { createHash } from 'node:crypto';
import { scriptEnvironment } from '../shell/script-environment.js';
import { quote } from '../shell/quote.js';
import type { ExecResult } from '../transport/types.js';
import { marksFrom, newNonce, readLines, type SectionResult } from './batch-script.js';
import { sectionsOf } from './read-probes.js';

// A read sent once and run many times: `status --watch` holds one shell per host (shell-channel.ts)
// and reads every host every few seconds. The read script is about 12 KB a host, the same on
// every refresh but for its nonce; so the first refresh defines it as a shell function in the
// held shell and every later one sends only the call, the nonce as its argument. The function's
// name carries a hash of its text: a different read (another plan) is another function, defined
// by its own first call. The shell's variables persist from script to script (shell-channel.ts),
// and so does a function; a shell that is not the one the function was defined in (the session
// opened a new one after a script ended its shell) answers the call with UNDEFINED, and the read
// is sent whole again.

/** What the call prints, alone, where the shell does not hold the function. */
const UNDEFINED = 'lvsprov-read-undefined';
const NONCE = 'lvsprov_nonce';

export interface ReadFunction {
  readonly name: string;
  /** The function's definition, the script environment set once before it. */
  readonly definition: string;
}

/** `probes` as readScript reads them, without a prelude (no lock: status takes none), as a function of the nonce. */
export function readFunction(probes: readonly string[]): ReadFunction {
  // Set once, where it is defined: run on every call, PATH's prefix would grow by itself each time.
  const body = [`${NONCE}=$1`, ...readLines(marksFrom(NONCE), probes)].join('\n');
  const name = `lvsprov_read_${createHash('sha256').update(body).digest('hex').slice(0, 16)}`;
  return { name, definition: `${scriptEnvironment}\n${name}() {\n${body}\n}` };
}

/** The script that defines the function and reads once with `nonce`. */
export function definingScript(read: ReadFunction, nonce: string): string {
  return `${read.definition}\n${read.name} ${quote(nonce)}\n`;
}

/** The script that reads with `nonce` through a function defined earlier in the same shell. */
export function callingScript(read: ReadFunction, nonce: string): string {
  return `if command -v ${read.name} >/dev/null 2>&1; then ${read.name} ${quote(nonce)}; else printf '%s\\n' ${UNDEFINED}; fi\n`;
}

/** One host's read over a held session: defined on its first read, called after. */
export class HeldRead {
  private readonly read: ReadFunction;
  private defined = false;

  constructor(private readonly probes: readonly string[]) {
    this.read = readFunction(probes);
  }

  /** The session is new: its shell holds no function yet. */
  forget(): void {
    this.defined = false;
  }

  async sections(exec: (script: string) => Promise<ExecResult>): Promise<Map<number, SectionResult>> {
    const nonce = newNonce();
    let result = await exec(this.defined ? callingScript(this.read, nonce) : definingScript(this.read, nonce));
    if (this.defined && result.stdout === `${UNDEFINED}\n`) result = await exec(definingScript(this.read, nonce));
    this.defined = true;
    return sectionsOf(exec, nonce, result, this.probes);
  }
}
