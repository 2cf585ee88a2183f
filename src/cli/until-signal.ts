/** untilSignal resolves on SIGTERM or SIGINT: every long-running subcommand then shuts down cleanly. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}
