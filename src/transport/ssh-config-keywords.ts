import { nearestNames } from '../config/suggest.js';
import { globMatches } from '../glob.js';
import { shownKeyword } from './ssh-config-line.js';

// Every keyword OpenSSH's client reads (readconf.c's table: 9.2's and the newest release's, so a
// config written for a newer ssh is not refused here), lowercased. ssh refuses a file with any
// other keyword ("Bad configuration option"), in a block that applies or not, unless an
// IgnoreUnknown read before it names the keyword; lvsprov refuses it at its line the same way,
// rather than read past a misspelt HostName and connect somewhere else.

const keywords: ReadonlySet<string> = new Set(
  `
  addkeystoagent addressfamily afstokenpassing batchmode bindaddress bindinterface
  canonicaldomains canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots
  canonicalizepermittedcnames casignaturealgorithms certificatefile
  challengeresponseauthentication channeltimeout checkhostip cipher ciphers clearallforwardings
  compression compressionlevel connectionattempts connecttimeout controlmaster controlpath
  controlpersist dsaauthentication dynamicforward enableescapecommandline enablesshkeysign
  escapechar exitonforwardfailure fallbacktorsh fingerprinthash forkafterauthentication
  forwardagent forwardx11 forwardx11timeout forwardx11trusted gatewayports globalknownhostsfile
  globalknownhostsfile2 gssapiauthentication gssapidelegatecredentials hashknownhosts host
  hostbasedacceptedalgorithms hostbasedauthentication hostbasedkeytypes hostkeyalgorithms
  hostkeyalias hostname identitiesonly identityagent identityfile identityfile2 ignoreunknown
  include ipqos kbdinteractiveauthentication kbdinteractivedevices keepalive
  kerberosauthentication kerberostgtpassing kexalgorithms knownhostscommand localcommand
  localforward loglevel logverbose macs match nohostauthenticationforlocalhost
  numberofpasswordprompts obscurekeystroketiming passwordauthentication permitlocalcommand
  permitremoteopen pkcs11provider port preferredauthentications protocol proxycommand proxyjump
  proxyusefdpass pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication
  refuseconnection rekeylimit remotecommand remoteforward requesttty requiredrsasize
  revokedhostkeys rhostsauthentication rhostsrsaauthentication rsaauthentication
  securitykeyprovider sendenv serveralivecountmax serveraliveinterval sessiontype setenv
  skeyauthentication smartcarddevice stdinnull streamlocalbindmask streamlocalbindunlink
  stricthostkeychecking syslogfacility tag tcpkeepalive tisauthentication tunnel tunneldevice
  updatehostkeys useprivilegedport user userknownhostsfile userknownhostsfile2 useroaming usersh
  verifyhostkeydns versionaddendum visualhostkey warnweakcrypto xauthlocation
`.split(/\s+/).filter(Boolean),
);

/** Whether ssh reads `keyword` (lowercased) as one of its own. */
export const isSshConfigKeyword = (keyword: string): boolean => keywords.has(keyword);

/** Why ssh would refuse `keyword` (lowercased), or undefined; `ignoreUnknown` is the IgnoreUnknown value in force. */
export function unknownKeywordProblem(keyword: string, ignoreUnknown: readonly string[] | undefined): string | undefined {
  if (keywords.has(keyword)) return undefined;
  const patterns = (ignoreUnknown ?? []).flatMap((value) => value.split(','));
  if (patterns.some((pattern) => pattern !== '' && globMatches(pattern, keyword, true))) return undefined;
  const [nearest] = nearestNames(keyword, keywords, 1);
  return `bad configuration option ${shownKeyword(keyword)}${nearest === undefined ? '' : ` (did you mean ${nearest}?)`}: ssh refuses this file too; an IgnoreUnknown before it lets both read past it`;
}
