/**
 * Stable error codes of @palisade/policy. The control plane maps them to `validation_failed` details
 * (`{ field: error.path, code: error.code, message }`), so a code never changes meaning once shipped.
 */
export type PolicyErrorCode =
  | 'tag_malformed'
  | 'tag_system_forbidden'
  | 'tags_not_array'
  | 'selector_not_array'
  | 'selector_empty'
  | 'selector_clause_empty'
  | 'selector_term_duplicate'
  | 'selector_term_malformed'
  | 'port_malformed'
  | 'port_out_of_range'
  | 'ports_not_array'
  | 'namespace_malformed'
  | 'unknown_service'
  | 'unknown_pu'
  | 'unknown_agent';

/** A typed, field-naming error: `path` is where in the input it went wrong, e.g. `subject[0][1]`. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    readonly code: PolicyErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}
