import type { ProcessingUnitDef } from './model';
import { sortUnique } from './tags';

/**
 * Effective tags of a processing unit: the system tags Palisade sets (`$namespace`, `$identity=
 * processingunit`, `$type`, `$name`, `$id`) plus its `associatedTags`, plus for a HostService one
 * `hs:name=<proto>:<port>` per listening port (`tcp/8106` → `hs:name=tcp:8106`, the tag the seed
 * service selects on). Sorted and unique. System tags in `associatedTags` are dropped: they are refused
 * on write, and dropping them here means a forged one can never reach a certificate.
 */
export function puTags(pu: ProcessingUnitDef): string[] {
  const tags = [
    `$namespace=${pu.namespace}`,
    '$identity=processingunit',
    `$type=${pu.type}`,
    `$id=${pu.id}`,
  ];
  if (/^\S+$/.test(pu.name) && !pu.name.includes('*')) {
    tags.push(`$name=${pu.name}`);
  }
  for (const t of pu.associatedTags) {
    if (!t.startsWith('$')) {
      tags.push(t);
    }
  }
  if (pu.type === 'HostService') {
    for (const p of pu.ports) {
      tags.push(`hs:name=${p.toLowerCase().replace('/', ':')}`);
    }
  }
  return sortUnique(tags);
}
