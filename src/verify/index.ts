// verify's public surface for callers other than the CLI (the qemu e2e suite): run it, read the
// report. `exitCodeForVerify` in src/cli/exit-codes.ts maps a report to the CLI's exit code.
export { verifyCluster, verifyDefaults, type VerifyOptions } from './run-verify.js';
export type { ArpCheck, CheckKind, CheckStatus, PageCheck, ServerRow, ServiceCheck, VerifyReport } from './report.js';
