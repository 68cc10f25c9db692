import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { Authorize } from '../../auth/authorize.decorator';
import { CurrentCaller, type Caller } from '../../common/request-context';
import { IsNamespacePath } from '../../common/validation';
import { AgentsService, type AgentView } from './agents.service';

export class ListAgentsQuery {
  @IsOptional()
  @IsNamespacePath()
  namespace?: string;
}

@ApiTags('agents')
@Controller('v1')
export class AgentsController {
  constructor(private readonly service: AgentsService) {}

  @Get('agents')
  @Authorize('viewer')
  list(@CurrentCaller() caller: Caller, @Query() q: ListAgentsQuery): Promise<AgentView[]> {
    return this.service.list(caller, q.namespace);
  }

  @Get('agents/:id')
  @Authorize('viewer')
  get(@CurrentCaller() caller: Caller, @Param('id', new ParseUUIDPipe()) id: string): Promise<AgentView> {
    return this.service.get(caller, id);
  }

  /** Revokes the agent: its certificates and its processing units' join every agent's deny list at once. */
  @Post('agents/:id/revoke')
  @HttpCode(200)
  @Authorize('editor')
  revoke(@CurrentCaller() caller: Caller, @Param('id', new ParseUUIDPipe()) id: string): Promise<AgentView> {
    return this.service.revoke(caller, id);
  }

  @Post('processingunits/:id/revoke')
  @HttpCode(200)
  @Authorize('editor')
  revokePu(@CurrentCaller() caller: Caller, @Param('id', new ParseUUIDPipe()) id: string): Promise<{ id: string; revokedSerials: number }> {
    return this.service.revokeProcessingUnit(caller, id);
  }
}
