/** verify's defaults, apart from its code: the command line shows them without loading verify. */
export const verifyDefaults = { requests: 100, tolerance: 10, timeoutSeconds: 3, timeLimitSeconds: 120 } as const;
