/**
 * The one spelling of a certificate serial across Palisade: lower-case hex without leading zeros — what Node's
 * TLS stack reports for a peer (`PeerCertificate.serialNumber`, upper-cased there), so a deny-list lookup on the
 * hot path is a plain Set lookup with no parsing.
 */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+(?=.)/, '');
}
