import { HttpStatus, Injectable } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { ApiError, type FieldError, validationError } from '../../common/api-error';
import { type BaseObjectDto } from '../../common/base.dto';
import { type Caller } from '../../common/request-context';
import { assertNamespaceVisible, type NamespacedResourceService, type UpsertResult } from '../../common/resource.service';
import { validateDto } from '../../common/validation';
import { TransactionService } from '../../database/transaction.service';
import { CreateNamespaceDto } from '../namespaces/dto/namespace.dto';
import { NamespacesService } from '../namespaces/namespaces.service';
import { CreateNetworkPolicyDto } from '../networkpolicies/dto/networkpolicy.dto';
import { NetworkPoliciesService } from '../networkpolicies/networkpolicies.service';
import { CreateProcessingUnitDto } from '../processingunits/dto/processingunit.dto';
import { ProcessingUnitsService } from '../processingunits/processingunits.service';
import { CreateServiceDto } from '../services/dto/service.dto';
import { ServicesService } from '../services/services.service';

/** Kinds in the document's `data`, in the order they are applied (namespaces first: the others live in them). */
export const DATA_KINDS = ['namespaces', 'processingunits', 'services', 'networkaccesspolicies'] as const;
export type DataKind = (typeof DATA_KINDS)[number];
/** `identities` entries of the Aporeto format, per data key. */
export const IDENTITY_OF: Record<DataKind, string> = {
  namespaces: 'namespace',
  processingunits: 'processingunit',
  services: 'service',
  networkaccesspolicies: 'networkaccesspolicy',
};
const MAX_OBJECTS = 5000;

export interface ImportOptions {
  namespace?: string;
  createNamespaces?: boolean;
}

export interface ImportResult {
  created: number;
  updated: number;
  unchanged: number;
  objects: { kind: string; namespace: string; name: string; result: UpsertResult }[];
}

const fail = (field: string, code: string, message: string): never => {
  throw validationError([{ field, code, message }]);
};

/** Parses a YAML/JSON body into a document object; malformed text is 400 document_malformed. */
export function parseDocument(body: unknown): Record<string, unknown> {
  let doc = body;
  if (typeof body === 'string') {
    try {
      // YAML 1.2 is a superset of JSON; the alias cap stops "billion laughs" documents.
      doc = parseYaml(body, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: false });
    } catch (e) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'document_malformed', `the document is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return fail('', 'document_malformed', 'the document must be an object { APIVersion, data, identities }');
  }
  return doc as Record<string, unknown>;
}

@Injectable()
export class ImportService {
  constructor(
    private readonly tx: TransactionService,
    private readonly namespaces: NamespacesService,
    private readonly pus: ProcessingUnitsService,
    private readonly services: ServicesService,
    private readonly policies: NetworkPoliciesService,
  ) {}

  /** Applies a whole document in one transaction: every object is upserted by (namespace, name), or nothing is. */
  async import(caller: Caller, body: unknown, opts: ImportOptions): Promise<ImportResult> {
    const doc = parseDocument(body);
    const items = this.validate(doc);
    const defaultNs = opts.namespace ?? caller.principal.namespace;
    return this.tx.run(async (em) => {
      const result: ImportResult = { created: 0, updated: 0, unchanged: 0, objects: [] };
      const note = (kind: string, namespace: string, name: string, r: UpsertResult) => {
        result[r] += 1;
        result.objects.push({ kind, namespace, name, result: r });
      };
      const nsItems = items.namespaces
        .map(({ dto, field }) => ({ dto, field, path: this.namespaces.resolvePath(dto, defaultNs, field) }))
        .sort((a, b) => a.path.split('/').length - b.path.split('/').length || a.path.localeCompare(b.path));
      this.assertUnique(nsItems.map((n) => ({ key: n.path, field: `${n.field}.name` })));
      const inDocument = new Set(nsItems.map((n) => n.path));
      for (const n of nsItems) {
        // A namespace may be created by the document when its parent is created earlier in it.
        const parents = opts.createNamespaces === true;
        note('namespace', n.path, n.path, await this.namespaces.upsertInTx(em, caller, n.path, n.dto, parents));
      }
      const ensured = new Set<string>(inDocument);
      const ensureNamespace = async (ns: string) => {
        if (ensured.has(ns)) {
          return;
        }
        if (opts.createNamespaces) {
          const r = await this.namespaces.createInTx(em, caller, ns, {}, true);
          if (!r.exists) {
            note('namespace', ns, ns, 'created');
          }
        } else {
          await assertNamespaceVisible(em, caller, ns);
        }
        ensured.add(ns);
      };
      const apply = async <D extends BaseObjectDto>(kind: string, svc: NamespacedResourceService<never, D, never>, list: { dto: D; field: string }[]) => {
        this.assertUnique(list.map((i) => ({ key: `${i.dto.namespace ?? defaultNs}\u0000${i.dto.name}`, field: `${i.field}.name` })));
        for (const { dto, field } of list) {
          const ns = dto.namespace ?? defaultNs;
          await ensureNamespace(ns);
          note(kind, ns, dto.name, await svc.upsertInTx(em, caller, ns, dto, field));
        }
      };
      await apply('processingunit', this.pus as never, items.processingunits);
      await apply('service', this.services as never, items.services);
      await apply('networkaccesspolicy', this.policies as never, items.networkaccesspolicies);
      return result;
    });
  }

  /** Checks the document's shape and every object against its DTO, reporting all bad fields at once. */
  private validate(doc: Record<string, unknown>) {
    const errors: FieldError[] = [];
    for (const key of Object.keys(doc)) {
      if (!['APIVersion', 'label', 'data', 'identities'].includes(key)) {
        errors.push({ field: key, code: 'field_unknown', message: `${key} is not a known field` });
      }
    }
    if (doc.APIVersion !== undefined && doc.APIVersion !== 0) {
      errors.push({ field: 'APIVersion', code: 'api_version_unsupported', message: 'APIVersion must be 0' });
    }
    if (doc.label !== undefined && (typeof doc.label !== 'string' || doc.label.length > 1024)) {
      errors.push({ field: 'label', code: 'isString', message: 'label must be a string' });
    }
    if (doc.identities !== undefined && (!Array.isArray(doc.identities) || !doc.identities.every((i) => typeof i === 'string'))) {
      errors.push({ field: 'identities', code: 'isArray', message: 'identities must be a list of strings' });
    }
    const data = doc.data;
    if (data === undefined) {
      return fail('data', 'isDefined', 'data is required: { namespaces, processingunits, services, networkaccesspolicies }');
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return fail('data', 'not_object', 'data must be an object');
    }
    const d = data as Record<string, unknown>;
    for (const key of Object.keys(d)) {
      if (!(DATA_KINDS as readonly string[]).includes(key)) {
        errors.push({ field: `data.${key}`, code: 'kind_unknown', message: `data.${key}: unknown kind (expected ${DATA_KINDS.join(', ')})` });
      }
    }
    let total = 0;
    const each = <T extends object>(key: DataKind, cls: new () => T): { dto: T; field: string }[] => {
      const list = d[key] ?? [];
      if (!Array.isArray(list)) {
        errors.push({ field: `data.${key}`, code: 'isArray', message: `data.${key} must be a list` });
        return [];
      }
      total += list.length;
      const out: { dto: T; field: string }[] = [];
      list.forEach((v: unknown, i) => {
        const field = `data.${key}[${i}]`;
        try {
          out.push({ dto: validateDto(cls, v, field), field });
        } catch (e) {
          if (e instanceof ApiError && Array.isArray(e.details)) {
            errors.push(...(e.details as FieldError[]));
          } else {
            throw e;
          }
        }
      });
      return out;
    };
    const items = {
      namespaces: each('namespaces', CreateNamespaceDto),
      processingunits: each('processingunits', CreateProcessingUnitDto),
      services: each('services', CreateServiceDto),
      networkaccesspolicies: each('networkaccesspolicies', CreateNetworkPolicyDto),
    };
    if (total > MAX_OBJECTS) {
      errors.unshift({ field: 'data', code: 'too_many_objects', message: `at most ${MAX_OBJECTS} objects per document` });
    }
    if (errors.length > 0) {
      throw validationError(errors);
    }
    return items;
  }

  private assertUnique(keys: { key: string; field: string }[]): void {
    const seen = new Set<string>();
    for (const { key, field } of keys) {
      if (seen.has(key)) {
        fail(field, 'duplicate_in_document', 'the document names this object twice');
      }
      seen.add(key);
    }
  }
}
