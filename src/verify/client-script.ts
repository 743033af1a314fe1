import { quote } from '../shell/quote.js';
import { scriptEnvironment } from '../shell/script-environment.js';

// The client's whole job in one script, so one SSH round trip sends every request: first each
// real server's page directly, then N requests per virtual service, one new connection each (a
// reused connection would be scheduled once). A line per request says how the fetch ended and
// which host the page named; the page itself never comes back. Every loop is bounded: N requests,
// a per-request timeout, and a time limit per service after which the loop stops and says so.

export interface ClientScriptInput {
  readonly nonce: string;
  readonly requests: number;
  readonly timeoutSeconds: number;
  readonly timeLimitSeconds: number;
  /** Index of each service (its place in the inventory) and its URL. */
  readonly services: ReadonlyArray<{ readonly index: number; readonly url: string }>;
  /** Direct page URLs; their place in this list is their index in the output. */
  readonly pages: readonly string[];
  /**
   * With lvs.sessions: per service, its session page through the VIP, asked `sessionRequests`
   * times by one user (the session id of the first answer sent back as PHP's cookie).
   */
  readonly sessions?: ReadonlyArray<{ readonly index: number; readonly url: string }>;
  readonly sessionRequests?: number;
}

/** Where the webpage role serves the page that counts a user's requests in the session. */
export const SESSION_PAGE_PATH = 'cgi-bin/session.php';

/**
 * Reads `server=NAME requests=N session=ID` from `page` with parameter expansion alone, each field
 * held to its characters (a PHP session id is [A-Za-z0-9,-]); `-` for a field that is not there.
 */
export const sessionFromPage = [
  'server=-; count=-; sid=-',
  'case "$page" in "server="*" requests="*" session="*)',
  '  server=${page#server=}; server=${server%% *}',
  '  count=${page#* requests=}; count=${count%% *}',
  '  sid=${page#* session=}; sid=${sid%%[!A-Za-z0-9,-]*} ;;',
  'esac',
  'case "$server" in ""|*[!A-Za-z0-9_.-]*) server=- ;; esac',
  'case "$count" in ""|*[!0-9]*) count=- ;; esac',
  'case "$sid" in "") sid=- ;; esac',
].join('\n');

/**
 * The page template puts the host's inventory name in the only <h1>; names are [A-Za-z0-9_.-].
 * Sets `name` from `page` with parameter expansion alone: a sed pipeline cost three more process
 * starts per request, and a process start takes ~0.2 s on an emulated or busy client.
 */
export const nameFromPage = [
  'name=-',
  'case "$page" in *"<h1>"*"</h1>"*) name=${page#*"<h1>"}; name=${name%%"</h1>"*} ;; esac',
  'case "$name" in ""|*[!A-Za-z0-9_.-]*) name=- ;; esac',
].join('\n');

export function clientScript(input: ClientScriptInput): string {
  for (const url of [...input.services.map((service) => service.url), ...input.pages]) checkUrl(url);
  for (const session of input.sessions ?? []) checkUrl(session.url, SESSION_PAGE_PATH);
  for (const [label, value] of [
    ['requests', input.requests],
    ['timeout', input.timeoutSeconds],
    ['time limit', input.timeLimitSeconds],
    ['session requests', input.sessionRequests ?? 1],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${label} must be a whole number of at least 1, not ${value}`);
  }
  if (!/^[0-9a-f]+$/.test(input.nonce)) throw new Error('the nonce must be hex');
  const n = input.nonce;
  const lines = [
    scriptEnvironment,
    // A proxy would answer for every server and hide the split.
    'unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY',
    'if command -v curl >/dev/null 2>&1; then fetcher=curl',
    'elif command -v wget >/dev/null 2>&1; then fetcher=wget',
    'elif busybox --list 2>/dev/null | grep -qx wget && command -v timeout >/dev/null 2>&1; then fetcher="busybox wget"',
    `else printf '%s fetcher none\\n%s end\\n' ${n} ${n}; exit 0; fi`,
    `printf '%s fetcher %s\\n' ${n} "$fetcher"`,
    // curl -f: an HTTP error is a failed fetch, not a page without a name. Debian's busybox
    // before 1.36.1-5 is built without wget -T and crashes on it, so `timeout` bounds it instead.
    'get() {',
    '  case "$fetcher" in',
    `    curl) curl -sf -o - --max-time ${input.timeoutSeconds} "$1" ;;`,
    `    wget) wget -q -T ${input.timeoutSeconds} -t 1 -O - "$1" ;;`,
    `    *) timeout ${input.timeoutSeconds} busybox wget -q -O - "$1" ;;`,
    '  esac',
    '}',
    // The same fetch with PHP's session cookie (an empty id makes PHP start a session).
    'getsession() {',
    '  case "$fetcher" in',
    `    curl) curl -sf -o - --max-time ${input.timeoutSeconds} -H "Cookie: PHPSESSID=$2" "$1" ;;`,
    `    wget) wget -q -T ${input.timeoutSeconds} -t 1 --header "Cookie: PHPSESSID=$2" -O - "$1" ;;`,
    `    *) timeout ${input.timeoutSeconds} busybox wget -q --header "Cookie: PHPSESSID=$2" -O - "$1" ;;`,
    '  esac',
    '}',
    'ask() {',
    '  page=$(get "$2" 2>/dev/null); rc=$?',
    ...nameFromPage.split('\n').map((line) => `  ${line}`),
    `  printf '%s %s %s %s\\n' ${n} "$1" "$rc" "$name"`,
    '}',
  ];
  input.pages.forEach((url, index) => lines.push(`ask 'p ${index}' ${quote(url)}`));
  // One curl for all of a service's requests where the client's curl can say how each ended
  // (%{exitcode}, curl 7.75): a process start costs ~0.2 s on an emulated or busy client, and the
  // loop below pays three per request. `timeout` bounds the batch by the time limit; stdbuf makes
  // curl write each request's line as it ends, which a curl that `timeout` ends would otherwise
  // lose in its buffer; awk reads the pages.
  lines.push(
    'batch=',
    `if [ "$fetcher" = curl ] && command -v timeout >/dev/null 2>&1 && command -v awk >/dev/null 2>&1 && command -v stdbuf >/dev/null 2>&1 && [ "$(curl -s -o /dev/null -w '%{exitcode}' file:///dev/null 2>/dev/null)" = 0 ]; then batch=1; fi`,
  );
  for (const service of input.services) {
    if (!Number.isInteger(service.index) || service.index < 0) throw new Error(`bad service index ${service.index}`);
    lines.push(
      'if [ -n "$batch" ]; then',
      // The URLs reach curl as a config on its stdin (`url = "..."`, a URL verify built: no quote or
      // backslash), one printf each: `set -- "$@" URL` N times costs N squared (7 s for 10,000 here).
      `  { i=0; while [ "$i" -lt ${input.requests} ]; do printf 'url = "%s"\\n' ${quote(service.url)}; i=$((i + 1)); done |`,
      `    timeout ${input.timeLimitSeconds} stdbuf -oL ${batchCurl(n, input.timeoutSeconds)} -K - 2>/dev/null; printf '%s t %s\\n' ${n} $?; } | awk -v n=${n} -v idx=${service.index} -v want=${input.requests} '${batchReader}'`,
      'else',
      `  i=1; stop=$(( $(date +%s) + ${input.timeLimitSeconds} ))`,
      `  while [ "$i" -le ${input.requests} ]; do`,
      `    if [ "$(date +%s)" -ge "$stop" ]; then printf '%s stop %s %s\\n' ${n} ${service.index} "$i"; break; fi`,
      `    ask "r ${service.index} $i" ${quote(service.url)}`,
      '    i=$((i + 1))',
      '  done',
      'fi',
      // Flushed as soon as the loop ends, so the caller can report this service while the next runs.
      `printf '%s done %s\\n' ${n} ${service.index}`,
    );
  }
  for (const session of input.sessions ?? []) {
    if (!Number.isInteger(session.index) || session.index < 0) throw new Error(`bad service index ${session.index}`);
    lines.push(
      "i=1; cookie=''",
      `while [ "$i" -le ${input.sessionRequests ?? 1} ]; do`,
      `  page=$(getsession ${quote(session.url)} "$cookie" 2>/dev/null); rc=$?`,
      ...sessionFromPage.split('\n').map((line) => `  ${line}`),
      `  printf '%s s %s %s %s %s %s %s\\n' ${n} ${session.index} "$i" "$rc" "$server" "$count" "$sid"`,
      '  [ "$sid" = - ] || cookie=$sid',
      '  i=$((i + 1))',
      'done',
    );
  }
  lines.push(`printf '%s end\\n' ${n}`);
  return `${lines.join('\n')}\n`;
}

/**
 * curl for a batch of one service's requests: `Connection: close` so that each is a new
 * connection the director schedules (the server must close it), and after each page a line of
 * this run's nonce with curl's exit status and how many connections that request opened (0: it
 * reused the one before, which the reader counts as a failed request, not an answer).
 */
function batchCurl(nonce: string, timeoutSeconds: number): string {
  return `curl -sf --max-time ${timeoutSeconds} -H 'Connection: close' -w '\\n${nonce} w %{exitcode} %{num_connects}\\n'`;
}

/**
 * awk over a batch's output: the pages and, after each, curl's line. Prints the loop's own line per
 * request (`r INDEX I RC NAME`, the name read as nameFromPage reads it: from the first <h1> to the
 * first </h1> after it, on one line, [A-Za-z0-9_.-] only), and `stop` where the time limit's
 * `timeout` ended curl (exit 124) before every request did. A reused connection reads as rc -1.
 */
export const batchReader = [
  'BEGIN { name = "-"; seen = 0; k = 0; limit = 0 }',
  '$1 == n && $2 == "t" && NF == 3 { limit = ($3 == 124); next }',
  '$1 == n && $2 == "w" && NF == 4 {',
  '  k++; rc = $3; if (rc == 0 && $4 == 0) { rc = -1; name = "-" }',
  '  printf "%s r %s %d %s %s\\n", n, idx, k, rc, name; name = "-"; seen = 0; next',
  '}',
  '!seen && (p = index($0, "<h1>")) > 0 {',
  '  seen = 1; rest = substr($0, p + 4); e = index(rest, "</h1>")',
  '  name = e > 1 ? substr(rest, 1, e - 1) : "-"',
  '  if (name ~ /[^A-Za-z0-9_.-]/) name = "-"',
  '}',
  'END { if (limit && k < want) printf "%s stop %s %d\\n", n, idx, k + 1 }',
].join('\n');

function checkUrl(url: string, path = ''): void {
  const match = /^http:\/\/(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\/(.*)$/.exec(url);
  if (match?.[3] !== path) throw new Error(`not a URL verify builds: ${url}`);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new Error(`not a URL verify builds: ${url}`);
}
