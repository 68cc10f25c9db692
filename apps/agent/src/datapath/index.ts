// The datapath's public surface: listeners, the flow table they share, redirect rules, and the types.
export { InboundListener, peerVerdict, type InboundListenerOptions } from './inbound-listener';
export { OutboundListener, type OutboundListenerOptions } from './outbound-listener';
export { Flow, FlowTable, type FlowTableOptions } from './tunnel';
export { buildClientContext, contextOptions } from './tls-contexts';
export * from './types';
export * as limits from './limits';
