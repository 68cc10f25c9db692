import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authorize } from '../../auth/authorize.decorator';
import { ListQuery } from '../../common/base.dto';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { CreateNetworkPolicyDto, type NetworkPolicyView, UpdateNetworkPolicyDto } from './dto/networkpolicy.dto';
import { NetworkPoliciesService } from './networkpolicies.service';

@ApiTags('networkaccesspolicies')
@Controller('v1/networkaccesspolicies')
export class NetworkPoliciesController {
  constructor(private readonly sut: NetworkPoliciesService) {}

  @Get()
  @Authorize('viewer')
  list(@CurrentCaller() c: Caller, @Query() q: ListQuery): Promise<NetworkPolicyView[]> {
    return this.sut.list(c, q);
  }

  @Get(':id')
  @Authorize('viewer')
  get(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<NetworkPolicyView> {
    return this.sut.get(c, id);
  }

  @Post()
  @Authorize('editor')
  create(@CurrentCaller() c: Caller, @Body() dto: CreateNetworkPolicyDto): Promise<NetworkPolicyView> {
    return this.sut.create(c, dto);
  }

  @Put(':id')
  @Authorize('editor')
  update(@CurrentCaller() c: Caller, @Param('id') id: string, @Body() dto: UpdateNetworkPolicyDto): Promise<NetworkPolicyView> {
    return this.sut.update(c, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('editor')
  remove(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<void> {
    return this.sut.remove(c, id);
  }
}
