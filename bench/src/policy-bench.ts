// Benchmark of @palisade/policy: compile time for 1k/10k PUs × 100/1,000 policies, and decide()/s on a
// rule set of 1,000 rules. Prints figures; asserts nothing. Run: node dist/bench/src/policy-bench.js
import { compile, decide, type NetworkPolicyDef, type PolicyState, type RuleSet } from '@palisade/policy';

const NOW = new Date('2030-01-01T00:00:00Z');

function basePolicy(id: string, over: Partial<NetworkPolicyDef>): NetworkPolicyDef {
  return {
    id, name: id, namespace: '/bench', subject: [['app=x']], object: [['app=y']], action: 'Allow', ports: [],
    applyPolicyMode: 'Bidirectional', encryptionEnabled: true, logsEnabled: false, observationEnabled: false,
    propagate: false, fallback: false, disabled: false, expirationTime: null, ...over,
  };
}

/** A fleet: PUs spread over 20 namespaces and PUs/10 agents; policies between 200 apps. */
export function fleet(pus: number, policies: number): PolicyState {
  const nss = Array.from({ length: 20 }, (_, i) => `/bench/ns${i}`);
  return {
    revision: 1,
    namespaces: [{ name: '/bench' }, ...nss.map((name) => ({ name }))],
    agents: Array.from({ length: Math.ceil(pus / 10) }, (_, i) => ({ id: `agent-${i}`, name: `agent-${i}`, namespace: '/bench' })),
    processingUnits: Array.from({ length: pus }, (_, i) => ({
      id: `pu-${i}`, name: `pu-${i}`, namespace: nss[i % 20], type: 'HostService' as const,
      associatedTags: [`app=app${i % 200}`, `env=${i % 3 === 0 ? 'prod' : 'dev'}`, `tier=t${i % 5}`],
      ports: [`tcp/${8000 + (i % 50)}`], agentId: `agent-${Math.floor(i / 10)}`,
    })),
    services: Array.from({ length: 50 }, (_, i) => ({
      id: `svc-${i}`, name: `svc-${i}`, namespace: '/bench', type: 'TCP' as const, TLSType: 'None', hosts: [`lb${i}.bench`],
      IPs: [], exposedPort: 7000 + i, port: 8000 + i, selectors: [[`app=app${i}`]], associatedTags: [`service=svc${i}`], propagate: true,
    })),
    policies: Array.from({ length: policies }, (_, j) =>
      basePolicy(`pol-${j}`, {
        namespace: j % 4 === 0 ? '/bench' : nss[j % 20],
        propagate: j % 4 === 0,
        subject: [[`app=app${j % 200}`, 'env=prod'], [`tier=t${j % 5}`, `app=app${(j * 7) % 200}`]],
        object: j % 10 === 0 ? [[`service=svc${j % 50}`]] : [[`app=app${(j * 13) % 200}`]],
        action: j % 9 === 0 ? 'Reject' : 'Allow',
        ports: j % 3 === 0 ? [] : [`tcp/8000:8100`],
      }),
    ),
    trustBundle: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    denyList: ['0a1b2c'],
  };
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function benchCompile(): void {
  for (const [pus, policies] of [[1000, 100], [1000, 1000], [10000, 100], [10000, 1000]] as const) {
    const st = fleet(pus, policies);
    compile(st); // warm-up (JIT)
    const runs = 3;
    let best = Number.POSITIVE_INFINITY;
    let sets: RuleSet[] = [];
    for (let r = 0; r < runs; r++) {
      const t = process.hrtime.bigint();
      sets = compile(st);
      best = Math.min(best, ms(t));
    }
    const avgPolicies = sets.reduce((n, s) => n + s.policies.length, 0) / sets.length;
    console.log(`compile ${pus} PUs x ${policies} policies: ${best.toFixed(0)} ms (best of ${runs}; ${sets.length} rule sets, ${avgPolicies.toFixed(1)} policies each)`);
  }
}

/** One server PU and 1,000 policies that all apply to it; peers are the 1,000 different subjects. */
function decideRuleSet(indexable: boolean): { rs: RuleSet; peers: string[][] } {
  const st: PolicyState = {
    revision: 1, namespaces: [{ name: '/bench' }], services: [], trustBundle: [], denyList: [],
    agents: [{ id: 'a', name: 'a', namespace: '/bench' }],
    processingUnits: [{ id: 'srv', name: 'srv', namespace: '/bench', type: 'HostService', associatedTags: ['app=server'], ports: ['tcp/8106'], agentId: 'a' }],
    policies: Array.from({ length: 1000 }, (_, j) =>
      basePolicy(`p${j}`, {
        subject: indexable ? [[`app=client${j}`, 'env=prod']] : [[`app=client${j}*`]],
        object: [['app=server']],
        action: j % 10 === 0 ? 'Reject' : 'Allow',
        ports: j % 2 === 0 ? ['tcp/8106'] : ['tcp/8000:9000'],
      }),
    ),
  };
  const rs = compile(st)[0];
  const peers = Array.from({ length: 1024 }, (_, i) => ['$namespace=/bench', '$identity=processingunit', `app=client${i % 1100}`, i % 2 ? 'env=prod' : 'env=dev', '$type=LinuxProcess']);
  return { rs, peers };
}

function benchDecide(indexable: boolean): void {
  const { rs, peers } = decideRuleSet(indexable);
  let allow = 0;
  const n = indexable ? 3_000_000 : 20_000;
  for (let i = 0; i < 10_000; i++) {
    decide(rs, 'srv', 'incoming', peers[i & 1023], 'tcp/8106', NOW);
  }
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (decide(rs, 'srv', 'incoming', peers[i & 1023], 'tcp/8106', NOW).action === 'Allow') {
      allow++;
    }
  }
  const el = ms(t);
  const label = indexable ? 'exact-term subjects (indexed)' : 'prefix-only subjects (unindexable, scanned)';
  console.log(`decide on ${rs.policies.length} rules, ${label}: ${((n / el) * 1000).toFixed(0)} decisions/s (${n} calls, ${allow} allowed)`);
}

/** Best-of-`runs` wall time in ms of compile() for `pus` PUs × `policies` policies (after one warm-up). */
export function compileMs(pus: number, policies: number, runs = 3): number {
  const st = fleet(pus, policies);
  compile(st);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const t = process.hrtime.bigint();
    compile(st);
    best = Math.min(best, ms(t));
  }
  return best;
}

if (require.main === module) {
  benchCompile();
  benchDecide(true);
  benchDecide(false);
}
