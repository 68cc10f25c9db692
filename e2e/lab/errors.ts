/** Stable codes for everything the lab can refuse or fail at; tests assert on these, never on messages. */
export type LabErrorCode =
  | 'not_supported' // not Linux, not root, or a required tool is missing
  | 'prefix_invalid' // the prefix would not make valid namespace names
  | 'host_unknown' // a host name that is not one of the lab's hosts
  | 'lab_exists' // namespaces with this prefix already exist (run Lab.cleanupStale first)
  | 'lab_destroyed' // the lab was destroyed; it starts nothing any more
  | 'command_failed' // a setup command (ip, haproxy -c, tshark -r …) exited non-zero
  | 'timeout' // something did not become ready before its deadline
  | 'process_exited'; // a process exited while we were waiting for it to become ready

/** The one error type the lab throws. `code` is stable; `message` says what happened for a human. */
export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}
