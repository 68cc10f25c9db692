import { Injectable } from '@nestjs/common';
import { normalizeSelector, sortUnique, validateTags } from '@palisade/policy';
import { DataSource } from 'typeorm';
import { validationError } from '../../common/api-error';
import { NamespacedResourceService, type ResourceSpec } from '../../common/resource.service';
import { ChangeService } from '../../database/change.service';
import { TransactionService } from '../../database/transaction.service';
import { AuditService } from '../audit/audit.service';
import { type CreateServiceDto, type ServiceView } from './dto/service.dto';
import { ServiceEntity } from './service.entity';

export const serviceSpec: ResourceSpec<ServiceEntity, CreateServiceDto, ServiceView> = {
  kind: 'service',
  entity: ServiceEntity,
  label: 'service',
  assign(e, dto, field) {
    const IPs = sortUnique(dto.IPs ?? []);
    const hosts = sortUnique((dto.hosts ?? []).map((h) => h.toLowerCase()));
    if (IPs.length === 0 && hosts.length === 0) {
      // Without an address no client could ever dial the service.
      const f = field ? `${field}.hosts` : 'hosts';
      throw validationError([{ field: f, code: 'address_required', message: 'a service needs at least one of hosts or IPs' }]);
    }
    e.IPs = IPs;
    e.hosts = hosts;
    e.exposedPort = dto.exposedPort;
    e.port = dto.port;
    e.selectors = normalizeSelector(dto.selectors, 'selectors');
    e.associatedTags = validateTags(dto.associatedTags ?? [], { field: 'associatedTags' });
    e.type = dto.type ?? 'TCP';
    e.TLSType = dto.TLSType ?? 'None';
    e.propagate = dto.propagate ?? false;
  },
  view: (e) => ({
    id: e.id,
    namespace: e.namespace,
    name: e.name,
    description: e.description,
    IPs: e.IPs,
    hosts: e.hosts,
    exposedPort: e.exposedPort,
    port: e.port,
    selectors: e.selectors,
    associatedTags: e.associatedTags,
    type: e.type,
    TLSType: e.TLSType,
    propagate: e.propagate,
    createTime: e.createTime.toISOString(),
    updateTime: e.updateTime.toISOString(),
    version: e.version,
  }),
  exportView: (e) => ({
    IPs: e.IPs,
    TLSType: e.TLSType,
    associatedTags: e.associatedTags,
    description: e.description,
    exposedPort: e.exposedPort,
    hosts: e.hosts,
    name: e.name,
    namespace: e.namespace,
    port: e.port,
    propagate: e.propagate,
    selectors: e.selectors,
    type: e.type,
  }),
};

@Injectable()
export class ServicesService extends NamespacedResourceService<ServiceEntity, CreateServiceDto, ServiceView> {
  constructor(dataSource: DataSource, tx: TransactionService, changes: ChangeService, audit: AuditService) {
    super(serviceSpec, dataSource, tx, changes, audit);
  }
}
