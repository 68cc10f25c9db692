import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authorize } from '../../auth/authorize.decorator';
import { CurrentCaller, type Caller } from '../../common/request-context';
import { ListFlowReportsQuery } from './dto/flowreports.dto';
import { FlowReportsService, type FlowReportView } from './flowreports.service';

@ApiTags('flowreports')
@Controller('v1/flowreports')
export class FlowReportsController {
  constructor(private readonly service: FlowReportsService) {}

  @Get()
  @Authorize('viewer')
  list(@CurrentCaller() caller: Caller, @Query() q: ListFlowReportsQuery): Promise<FlowReportView[]> {
    return this.service.list(caller, {
      ...q,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    });
  }
}
