import { Injectable } from '@nestjs/common';
import { normalizeSelector, validatePorts } from '@palisade/policy';
import { DataSource } from 'typeorm';
import { validationError } from '../../common/api-error';
import { NamespacedResourceService, type ResourceSpec } from '../../common/resource.service';
import { ChangeService } from '../../database/change.service';
import { TransactionService } from '../../database/transaction.service';
import { AuditService } from '../audit/audit.service';
import { type CreateNetworkPolicyDto, type NetworkPolicyView } from './dto/networkpolicy.dto';
import { NetworkPolicyEntity } from './networkpolicy.entity';

function parseExpiration(v: string | null | undefined, field: string): Date | null {
  if (v === undefined || v === null) {
    return null;
  }
  const d = new Date(v);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() > 9999) {
    throw validationError([{ field, code: 'isIso8601', message: `${field} must be a valid ISO 8601 date` }]);
  }
  return d;
}

export const networkPolicySpec: ResourceSpec<NetworkPolicyEntity, CreateNetworkPolicyDto, NetworkPolicyView> = {
  kind: 'networkaccesspolicy',
  entity: NetworkPolicyEntity,
  label: 'network policy',
  assign(e, dto, field) {
    e.subject = normalizeSelector(dto.subject, 'subject');
    e.object = normalizeSelector(dto.object, 'object');
    e.action = dto.action;
    e.ports = validatePorts(dto.ports ?? []);
    e.applyPolicyMode = dto.applyPolicyMode ?? 'Bidirectional';
    e.encryptionEnabled = dto.encryptionEnabled ?? true;
    e.logsEnabled = dto.logsEnabled ?? false;
    e.observationEnabled = dto.observationEnabled ?? false;
    e.propagate = dto.propagate ?? false;
    e.fallback = dto.fallback ?? false;
    e.disabled = dto.disabled ?? false;
    e.expirationTime = parseExpiration(dto.expirationTime, field ? `${field}.expirationTime` : 'expirationTime');
  },
  view: (e) => ({
    id: e.id,
    namespace: e.namespace,
    name: e.name,
    description: e.description,
    subject: e.subject,
    object: e.object,
    action: e.action,
    ports: e.ports,
    applyPolicyMode: e.applyPolicyMode,
    encryptionEnabled: e.encryptionEnabled,
    logsEnabled: e.logsEnabled,
    observationEnabled: e.observationEnabled,
    propagate: e.propagate,
    fallback: e.fallback,
    disabled: e.disabled,
    expirationTime: e.expirationTime ? e.expirationTime.toISOString() : null,
    createTime: e.createTime.toISOString(),
    updateTime: e.updateTime.toISOString(),
    version: e.version,
  }),
  exportView: (e) => ({
    action: e.action,
    applyPolicyMode: e.applyPolicyMode,
    description: e.description,
    disabled: e.disabled,
    encryptionEnabled: e.encryptionEnabled,
    expirationTime: e.expirationTime ? e.expirationTime.toISOString() : null,
    fallback: e.fallback,
    logsEnabled: e.logsEnabled,
    name: e.name,
    namespace: e.namespace,
    object: e.object,
    observationEnabled: e.observationEnabled,
    ports: e.ports,
    propagate: e.propagate,
    subject: e.subject,
  }),
};

@Injectable()
export class NetworkPoliciesService extends NamespacedResourceService<NetworkPolicyEntity, CreateNetworkPolicyDto, NetworkPolicyView> {
  constructor(dataSource: DataSource, tx: TransactionService, changes: ChangeService, audit: AuditService) {
    super(networkPolicySpec, dataSource, tx, changes, audit);
  }
}
