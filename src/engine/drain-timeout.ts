/** Seconds a director waits for a leaving real server's active connections to end before deleting it. */
export const DEFAULT_DRAIN_TIMEOUT = 300;

/**
 * Seconds a director waits, after switching real servers between NAT and DR or TUN, for their
 * connections of the old method to end before the real servers reroute (at most --drain-timeout).
 * New connections wait meanwhile (their first answer takes the wrong way; the client's SYN is
 * sent again after 1, 3 and 7 s), so the wait is short; what is still open then loses its way back.
 */
export const SWITCH_WAIT_SECONDS = 10;
