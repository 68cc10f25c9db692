import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PolicyError,
  isSystemTag,
  matchSelector,
  normalizeSelector,
  parseTag,
  portMatches,
  puTags,
  validateNamespace,
  validatePortNumber,
  validatePorts,
  validateTags,
} from './index';

function throwsCode(fn: () => unknown, code: string, path: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.path, path);
    return true;
  });
}

describe('rule 1: tags', () => {
  it('rule 1: parses key=value at the first "="', () => {
    assert.deepEqual(parseTag('hs:name=tcp:8106'), { key: 'hs:name', value: 'tcp:8106' });
    assert.deepEqual(parseTag('a=b=c'), { key: 'a', value: 'b=c' });
  });
  it('rule 1: refuses malformed tags', () => {
    for (const bad of ['novalue', '=v', 'k=', 'k =v', 'k=v w', 'k=v*', 'k!x=v', '$=v']) {
      throwsCode(() => parseTag(bad), 'tag_malformed', 'tag');
    }
  });
  it('rule 1: refuses system tags from users, naming the element', () => {
    throwsCode(() => validateTags(['app=x', '$identity=admin'], { field: 'associatedTags' }),
      'tag_system_forbidden', 'associatedTags[1]');
    assert.deepEqual(validateTags(['$a=1'], { allowSystem: true }), ['$a=1']);
    assert.equal(isSystemTag('$namespace=/a'), true);
    assert.equal(isSystemTag('namespace=/a'), false);
  });
  it('rule 1: normalises tag lists (sorted, unique)', () => {
    assert.deepEqual(validateTags(['b=1', 'a=1', 'b=1']), ['a=1', 'b=1']);
    throwsCode(() => validateTags('a=1', { field: 'tags' }), 'tags_not_array', 'tags');
  });
});

describe('rule 2: selectors', () => {
  it('rule 2: validates, naming clause and term', () => {
    throwsCode(() => normalizeSelector('a=b', 'subject'), 'selector_not_array', 'subject');
    throwsCode(() => normalizeSelector([], 'subject'), 'selector_empty', 'subject');
    throwsCode(() => normalizeSelector([[]], 'subject'), 'selector_clause_empty', 'subject[0]');
    throwsCode(() => normalizeSelector([['a=1'], 'b=1'], 'object'), 'selector_not_array', 'object[1]');
    throwsCode(() => normalizeSelector([['a=1', 'a=1']], 'subject'), 'selector_term_duplicate', 'subject[0][1]');
    throwsCode(() => normalizeSelector([['a=1'], ['b=1', 'bad']], 'subject'), 'selector_term_malformed', 'subject[1][1]');
    throwsCode(() => normalizeSelector([['a!=v*']], 'subject'), 'selector_term_malformed', 'subject[0][0]');
    throwsCode(() => normalizeSelector([[3]], 'subject'), 'selector_term_malformed', 'subject[0][0]');
  });
  it('rule 2: normalises (sorted, deduplicated) and is idempotent', () => {
    const n = normalizeSelector([['b=1', 'a=1'], ['c=*'], ['a=1', 'b=1']]);
    assert.deepEqual(n, [['a=1', 'b=1'], ['c=*']]);
    assert.deepEqual(normalizeSelector(n), n);
  });
  it('rule 2: operators = prefix exists != absent', () => {
    const tags = ['app=client', 'env=prod-eu', '$namespace=/a'];
    assert.equal(matchSelector([['app=client']], tags), true);
    assert.equal(matchSelector([['app=server']], tags), false);
    assert.equal(matchSelector([['env=prod*']], tags), true);
    assert.equal(matchSelector([['env=dev*']], tags), false);
    assert.equal(matchSelector([['env=*']], tags), true);
    assert.equal(matchSelector([['tier=*']], tags), false);
    assert.equal(matchSelector([['app!=server']], tags), true);
    assert.equal(matchSelector([['app!=client']], tags), false);
    assert.equal(matchSelector([['tier!=*']], tags), true);
    assert.equal(matchSelector([['app!=*']], tags), false);
    // a prefix never crosses the key boundary: "ap=*" does not match "app=client"
    assert.equal(matchSelector([['ap=*']], tags), false);
  });
  it('rule 2: OR of the outer list, AND inside a clause', () => {
    const tags = new Set(['a=1', 'b=2']);
    assert.equal(matchSelector([['a=1', 'b=3'], ['b=2']], tags), true);
    assert.equal(matchSelector([['a=1', 'b=3'], ['c=1']], tags), false);
  });
});

describe('rule 6: ports', () => {
  it('rule 6: validates and normalises port specs', () => {
    assert.deepEqual(validatePorts(['TCP/8106', 'tcp/1000:2000', 'tcp/5:5', 'tcp/8106']), ['tcp/5', 'tcp/1000:2000', 'tcp/8106']);
    assert.deepEqual(validatePorts(['tcp']), ['tcp']);
    throwsCode(() => validatePorts(['tcp/8106', 'tcp/70000']), 'port_out_of_range', 'ports[1]');
    throwsCode(() => validatePorts(['tcp/0']), 'port_out_of_range', 'ports[0]');
    throwsCode(() => validatePorts(['http/80']), 'port_malformed', 'ports[0]');
    throwsCode(() => validatePorts(['tcp/2000:1000']), 'port_malformed', 'ports[0]');
    throwsCode(() => validatePorts('tcp/1'), 'ports_not_array', 'ports');
    throwsCode(() => validatePortNumber(70000, 'exposedPort'), 'port_out_of_range', 'exposedPort');
    throwsCode(() => validatePortNumber(1.5, 'port'), 'port_malformed', 'port');
  });
  it('rule 6: matches ports, ranges and any', () => {
    assert.equal(portMatches([], 'tcp/9999'), true);
    assert.equal(portMatches(['tcp/8106'], 'tcp/8106'), true);
    assert.equal(portMatches(['tcp/8106'], 'tcp/9999'), false);
    assert.equal(portMatches(['tcp/1000:2000'], 'tcp/2000'), true);
    assert.equal(portMatches(['tcp/1000:2000'], 'tcp/2001'), false);
    assert.equal(portMatches(['tcp'], 'tcp/1'), true);
    assert.equal(portMatches(['udp/53'], 'tcp/53'), false);
    assert.equal(portMatches([], 'garbage'), false);
  });
});

describe('puTags', () => {
  it('adds system tags and hs:name for a HostService; drops forged system tags', () => {
    const tags = puTags({ id: 'p1', name: 'web', namespace: '/aporeto/lbtest3', type: 'HostService',
      associatedTags: ['app=server', '$identity=admin'], ports: ['tcp/8106'], agentId: 'a1' });
    assert.deepEqual(tags, ['$id=p1', '$identity=processingunit', '$name=web', '$namespace=/aporeto/lbtest3',
      '$type=HostService', 'app=server', 'hs:name=tcp:8106']);
  });
  it('validates namespace paths', () => {
    assert.equal(validateNamespace('/aporeto/lbtest3'), '/aporeto/lbtest3');
    throwsCode(() => validateNamespace('aporeto'), 'namespace_malformed', 'namespace');
    throwsCode(() => validateNamespace('/a//b'), 'namespace_malformed', 'namespace');
  });
});
