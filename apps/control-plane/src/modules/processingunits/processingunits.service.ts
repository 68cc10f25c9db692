import { Injectable } from '@nestjs/common';
import { validatePorts, validateTags } from '@palisade/policy';
import { DataSource } from 'typeorm';
import { ChangeService } from '../../database/change.service';
import { TransactionService } from '../../database/transaction.service';
import { NamespacedResourceService, type ResourceSpec } from '../../common/resource.service';
import { AuditService } from '../audit/audit.service';
import { type CreateProcessingUnitDto, type ProcessingUnitView } from './dto/processingunit.dto';
import { ProcessingUnitEntity } from './processingunit.entity';

export const processingUnitSpec: ResourceSpec<ProcessingUnitEntity, CreateProcessingUnitDto, ProcessingUnitView> = {
  kind: 'processingunit',
  entity: ProcessingUnitEntity,
  label: 'processing unit',
  assign(e, dto) {
    e.type = dto.type;
    e.associatedTags = validateTags(dto.associatedTags ?? [], { field: 'associatedTags' });
    e.ports = validatePorts(dto.ports ?? []);
    e.agentId ??= null;
  },
  view: (e) => ({
    id: e.id,
    namespace: e.namespace,
    name: e.name,
    description: e.description,
    type: e.type,
    associatedTags: e.associatedTags,
    ports: e.ports,
    agentId: e.agentId,
    createTime: e.createTime.toISOString(),
    updateTime: e.updateTime.toISOString(),
    version: e.version,
  }),
  // agentId is set by agents, not users: it is not exported (an import could not set it anyway).
  exportView: (e) => ({
    associatedTags: e.associatedTags,
    description: e.description,
    name: e.name,
    namespace: e.namespace,
    ports: e.ports,
    type: e.type,
  }),
};

@Injectable()
export class ProcessingUnitsService extends NamespacedResourceService<
  ProcessingUnitEntity,
  CreateProcessingUnitDto,
  ProcessingUnitView
> {
  constructor(dataSource: DataSource, tx: TransactionService, changes: ChangeService, audit: AuditService) {
    super(processingUnitSpec, dataSource, tx, changes, audit);
  }
}
