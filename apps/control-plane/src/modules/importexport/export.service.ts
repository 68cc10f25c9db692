import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { stringify as toYaml } from 'yaml';
import { canSee } from '../../auth/principal';
import { type Caller } from '../../common/request-context';
import { assertNamespaceVisible, namespaceNotFound } from '../../common/resource.service';
import { NamespacesService } from '../namespaces/namespaces.service';
import { NetworkPoliciesService } from '../networkpolicies/networkpolicies.service';
import { ProcessingUnitsService } from '../processingunits/processingunits.service';
import { ServicesService } from '../services/services.service';
import { DATA_KINDS, type DataKind, IDENTITY_OF } from './import.service';

export interface ExportDocument {
  APIVersion: 0;
  label: string;
  data: Partial<Record<DataKind, Record<string, unknown>[]>>;
  identities: string[];
}

/**
 * Export: the subtree of a namespace in the import format. What it includes, and why: only user-set fields
 * (with their defaults filled in), each object's absolute `namespace`, and the descendant namespaces —
 * never ids, timestamps, versions or agent-set fields (agentId). So the document re-imports as a no-op,
 * into the same installation or a fresh one; objects and keys are sorted so equal state exports to
 * equal bytes.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly namespaces: NamespacesService,
    private readonly pus: ProcessingUnitsService,
    private readonly services: ServicesService,
    private readonly policies: NetworkPoliciesService,
  ) {}

  async export(caller: Caller, namespace?: string): Promise<ExportDocument> {
    const ns = namespace ?? caller.principal.namespace;
    if (!canSee(caller.principal, ns)) {
      throw namespaceNotFound(ns);
    }
    // One transaction, so the export is a consistent snapshot.
    return this.dataSource.transaction('REPEATABLE READ', async (em) => {
      await assertNamespaceVisible(em, { ...caller }, ns);
      const parts: Record<DataKind, Record<string, unknown>[]> = {
        namespaces: await this.namespaces.exportSubtree(em, ns),
        processingunits: await this.pus.exportSubtree(em, ns),
        services: await this.services.exportSubtree(em, ns),
        networkaccesspolicies: await this.policies.exportSubtree(em, ns),
      };
      const data: ExportDocument['data'] = {};
      const identities: string[] = [];
      // Alphabetical key order, as the Aporeto exports have it.
      for (const kind of [...DATA_KINDS].sort()) {
        if (parts[kind].length > 0) {
          data[kind] = parts[kind];
          identities.push(IDENTITY_OF[kind]);
        }
      }
      return { APIVersion: 0, label: `export of ${ns}`, data, identities };
    });
  }

  /** The document as YAML text (the default wire format of GET /v1/export). */
  static toYaml(doc: ExportDocument): string {
    return toYaml(doc, { lineWidth: 0 });
  }
}
