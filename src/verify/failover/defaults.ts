/** verify --failover's defaults, apart from its code: the command line shows them without loading it. */
export const failoverDefaults = { maxGapSeconds: 5, ratePerSecond: 10 } as const;
