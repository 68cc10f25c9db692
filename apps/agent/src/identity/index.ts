// Which local process (and so which LinuxProcess PU) a connection belongs to.
export { findSocketOwner, ownerOfAcceptedSocket, socketOwnerStats, type SocketOwner, type SocketOwnerStats } from './socket-owner';
export { matchProcess, processMatches, uidOf, type ProcessRule } from './match-process';
export { procEndpoints, unmapIPv4 } from './proc-net';
