import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authorize } from '../../auth/authorize.decorator';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { CaService, type CaSummary } from './ca.service';

@ApiTags('ca')
@Controller('v1/ca')
export class CaController {
  constructor(private readonly ca: CaService) {}

  /** Public material only: certificates and fingerprints, never keys. */
  @Get()
  @Authorize('viewer')
  async get(): Promise<CaSummary & { trustBundle: string[] }> {
    return { ...(await this.ca.summary()), trustBundle: this.ca.trustBundle() };
  }

  @Post('rotate')
  @HttpCode(200)
  @Authorize('admin')
  rotate(@CurrentCaller() c: Caller): Promise<CaSummary> {
    return this.ca.rotate(c);
  }
}
