/**
 * Runs a benchmark's entry point: exit 0 when it resolves (a lingering socket or timer must not hold the
 * process), exit 1 with the error printed when it rejects.
 */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
