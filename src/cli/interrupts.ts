import { setMaxListeners } from 'node:events';
import type { CliIo } from './io.js';

// SIGINT, SIGTERM and SIGHUP become the engine's two cancellations: the first asks it to start
// nothing new and let what runs finish, the second to stop at once. SIGHUP is the terminal going
// (an ssh session to the control node that dropped): by default it ends node at once, in the
// middle of a wave or of a failover drill that has keepalived stopped on a director; taken as an
// interrupt, the run stops at a step's end and the drill puts keepalived back. The engine never
// sees a signal.

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Signal = (typeof signals)[number];

export interface Interrupts {
  /** Aborted by the first signal. */
  readonly interrupt: AbortSignal;
  /** Aborted by the second. */
  readonly abort: AbortSignal;
  /** Stop listening (the run is over). */
  dispose(): void;
}

/** The process whose signals to watch; tests pass an EventEmitter. */
export interface SignalSource {
  on(signal: Signal, listener: () => void): unknown;
  off(signal: Signal, listener: () => void): unknown;
}

/** What each signal tells the user; apply's by default. */
export interface InterruptMessages {
  readonly first: string;
  readonly second: string;
}

const applyMessages: InterruptMessages = {
  first: 'interrupted: starting nothing new; the applies in progress finish their current step (interrupt again to stop at once)',
  second: 'interrupted again: stopping at once; hosts in the middle of a change may be half-applied',
};

export function watchInterrupts(io: CliIo, source: SignalSource = process, messages: InterruptMessages = applyMessages): Interrupts {
  const first = new AbortController();
  const second = new AbortController();
  // Every host's exec listens on both at once (a listener a host, removed when its script ends):
  // past ten, node would print a warning of a listener leak on every run of eleven hosts or more.
  setMaxListeners(0, first.signal, second.signal);
  const onSignal = (): void => {
    if (!first.signal.aborted) {
      io.err(messages.first);
      first.abort();
    } else if (!second.signal.aborted) {
      io.err(messages.second);
      second.abort();
    }
  };
  for (const signal of signals) source.on(signal, onSignal);
  return {
    interrupt: first.signal,
    abort: second.signal,
    dispose: () => {
      for (const signal of signals) source.off(signal, onSignal);
    },
  };
}
