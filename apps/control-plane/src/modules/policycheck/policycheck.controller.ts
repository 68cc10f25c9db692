import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { checkFlow, type FlowCheck } from '@palisade/policy';
import { Authorize } from '../../auth/authorize.decorator';
import { canSee } from '../../auth/principal';
import { ApiError } from '../../common/api-error';
import { CurrentCaller, type Caller } from '../../common/request-context';
import { StateSource } from '../distribution/state-source';
import { PolicyCheckDto } from './dto/policycheck.dto';

@ApiTags('policycheck')
@Controller('v1/policycheck')
export class PolicyCheckController {
  constructor(private readonly state: StateSource) {}

  /** The what-if check: the verdict the agents would reach, with every policy considered and why. */
  @Post()
  @HttpCode(200)
  @Authorize('viewer')
  async check(@CurrentCaller() caller: Caller, @Body() dto: PolicyCheckDto): Promise<FlowCheck> {
    if (!canSee(caller.principal, dto.namespace)) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'namespace_not_found', `namespace ${dto.namespace} not found`, { field: 'namespace' });
    }
    const state = await this.state.current();
    if (!state.namespaces.some((n) => n.name === dto.namespace)) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'namespace_not_found', `namespace ${dto.namespace} not found`, { field: 'namespace' });
    }
    return checkFlow(state, { namespace: dto.namespace, subject: dto.subject, object: dto.object, port: dto.port });
  }
}
