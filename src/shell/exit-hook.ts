/**
 * The name of a variable that holds what a session's shell runs as it exits (the host lock's
 * release, see releaseAtExitScript). A script that sets an EXIT trap of its own (the apply
 * script, to close a change's output when a command ends the shell) runs the hook from that trap
 * and puts it back as the trap after.
 */
export const SHELL_EXIT_HOOK = 'lvsprov_exit_hook';
