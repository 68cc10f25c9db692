// Benchmark of @palisade/pki: leaf certificates issued per second from CSRs (the library alone — the API
// figure, with HTTPS and the database, is measured by the control plane's bench), plus the per-connection
// read paths. Prints figures; asserts nothing. Run: node tools/build.mjs && node dist/bench/src/pki-bench.js
import {
  createCsr,
  createIssuingCa,
  createRootCa,
  generateKeyPair,
  issueLeaf,
  readCertificate,
  verifyChain,
  verifyCsr,
} from '@palisade/pki';

const SECONDS = Number(process.env.PKI_BENCH_SECONDS ?? 3);
const CSRS = 200;

async function rate(name: string, op: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 50; i++) {
    await op(i); // warm up: JIT, the CA cache
  }
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(SECONDS * 1e9);
  let n = 0;
  while (process.hrtime.bigint() < deadline) {
    await op(n++);
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const perSec = n / secs;
  console.log(`${name.padEnd(44)} ${perSec.toFixed(0).padStart(7)}/s  (${n} in ${secs.toFixed(2)} s)`);
  return perSec;
}

async function main(): Promise<void> {
  const root = await createRootCa({ trustDomain: 'bench.palisade' });
  const issuer = await createIssuingCa(root);
  const csrs: string[] = [];
  for (let i = 0; i < CSRS; i++) {
    csrs.push(await createCsr((await generateKeyPair()).privateKeyPem, `bench-${i}`));
  }
  const tags = ['$namespace=/bench/prod', '$type=HostService', 'app=payments', 'env=prod', 'tier=backend'];
  const issue = (i: number) =>
    issueLeaf({
      issuer,
      csrPem: csrs[i % CSRS],
      identity: { trustDomain: 'bench.palisade', namespace: '/bench/prod', kind: 'pu', id: `pu-${i}` },
      tags,
      ttlSeconds: 3600,
    });
  console.log(`@palisade/pki bench (${SECONDS} s per figure, node ${process.version})`);
  await rate('issueLeaf (verify CSR + sign), sequential', issue);
  await rate('issueLeaf, 16 in flight (per leaf)', async (i) => {
    if (i % 16 === 0) {
      await Promise.all(Array.from({ length: 16 }, (_, k) => issue(i + k)));
    }
  });
  await rate('verifyCsr', (i) => verifyCsr(csrs[i % CSRS]));
  const leaf = await issue(0);
  await rate('readCertificate', () => readCertificate(leaf.certPem));
  await rate('verifyChain (leaf + issuing CA → root)', () =>
    verifyChain({ chainPem: leaf.chainPem, trustBundle: [root.certPem] }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
