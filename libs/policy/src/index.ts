export * from './errors';
export * from './model';
export { parseTag, validateTags, isSystemTag, sortUnique, compareStrings, MAX_TAG_LENGTH } from './tags';
export { normalizeSelector, matchSelector, parseTerm, type Term } from './selector';
export { validatePorts, validatePortNumber, portMatches, parsePort, formatPort, type PortRange } from './ports';
export { validateNamespace, isWithin, appliesIn } from './namespace';
export { puTags } from './pu-tags';
