import { Controller, Get, HttpStatus, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { Authorize } from '../../auth/authorize.decorator';
import { canSee } from '../../auth/principal';
import { ApiError } from '../../common/api-error';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { IsNamespacePath } from '../../common/validation';
import { AuditService, type AuditLogView } from './audit.service';

export class ListAuditLogsQuery {
  @IsOptional()
  @IsNamespacePath()
  namespace?: string;

  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** Paging: only entries with an id below this one. */
  @IsOptional()
  @Matches(/^\d{1,18}$/)
  before?: string;
}

@ApiTags('auditlogs')
@Controller('v1/auditlogs')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Authorize('admin')
  list(@CurrentCaller() caller: Caller, @Query() q: ListAuditLogsQuery): Promise<AuditLogView[]> {
    const namespace = q.namespace ?? caller.principal.namespace;
    if (!canSee(caller.principal, namespace)) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'namespace_not_found', `namespace ${namespace} not found`);
    }
    return this.audit.list(caller, { namespace, limit: q.limit ?? 100, beforeId: q.before });
  }
}
