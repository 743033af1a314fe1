/** Seconds a director waits for a leaving real server's active connections to end before deleting it. */
export const DEFAULT_DRAIN_TIMEOUT = 300;
