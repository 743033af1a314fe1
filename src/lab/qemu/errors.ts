// Typed so callers (the CLI, the integration test) can tell "this machine cannot run the lab" from
// "the lab broke": the first is skipped locally and fails in CI, the second always fails.

/** A tool, package or permission the qemu lab needs is missing; `hint` says how to get it. */
export class LabPrerequisiteError extends Error {
  constructor(
    readonly missing: string,
    readonly hint: string,
  ) {
    super(`${missing} is missing: ${hint}`);
    this.name = 'LabPrerequisiteError';
  }
}

/** The guest failed to boot, become reachable, or run a command. */
export class GuestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GuestError';
  }
}
