// The lab library: what the end-to-end specs import.
export {
  Lab,
  labUnsupportedReason,
  type LabOptions,
  type Leftovers,
  type Placement,
  type ProcessOptions,
} from './lab';
export { LabError, type LabErrorCode } from './errors';
export { LabProcess, type ExecResult, type ExitStatus, type StartOptions } from './proc';
export { Capture, type CaptureOptions } from './capture';
export { renderHaproxyConfig, type HaproxyOptions } from './haproxy';
export {
  findMarker,
  readTcpSegments,
  readTlsSegments,
  type MarkerHits,
  type TcpSegment,
  type TlsSegment,
} from './tshark-read';
export {
  checkTls13Only,
  evaluateTls13,
  type Tls13Report,
  type Tls13Violation,
  type Tls13ViolationReason,
} from './tls-check';
export type { TeardownReport } from './netns';
export * from './topology';
export {
  ECHO_SERVER,
  LINE_CLIENT,
  lineClientArgv,
  parseClientOutput,
  runLineClient,
  startEchoServer,
  type ClientOutcome,
  type ClientResult,
  type EchoServerOptions,
  type LineClientOptions,
} from './apps';
export { isAlive } from './proc';
