/**
 * The first line of every script lvsprov sends to a host: C locale, so tools print what the
 * parsers expect whatever the login's language, and the sbin directories first, since a non-root
 * login (become, or verify's client) often lacks them and ip, sysctl and ipvsadm live there.
 */
export const scriptEnvironment = 'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"';
