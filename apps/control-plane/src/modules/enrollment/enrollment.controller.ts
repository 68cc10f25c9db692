import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { ApiTags } from '@nestjs/swagger';
import { Authorize, EnrollmentTokenAuthenticated } from '../../auth/authorize.decorator';
import { CurrentCaller, type Caller, type PalisadeRequest } from '../../common/request-context';
import { CreateEnrollmentTokenDto, EnrollDto } from './dto/enrollment.dto';
import { EnrollmentService, type EnrollmentTokenView, type EnrollResponse } from './enrollment.service';

/**
 * The URL agents are told to dial: PALISADE_PUBLIC_URL when set (behind a load balancer, or in the lab), else the
 * Host the caller used. Either way the agent pins the CA fingerprint, so a wrong URL fails closed, never open.
 */
function publicUrl(config: AppConfig, req: PalisadeRequest): string {
  if (config.publicUrl) {
    return config.publicUrl;
  }
  const host = String(req.headers['host'] ?? `${req.socket.localAddress}:${req.socket.localPort}`);
  return `https://${host}`;
}

@ApiTags('enrollment')
@Controller('v1')
export class EnrollmentController {
  constructor(
    private readonly service: EnrollmentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Returns the token once; only its hash is kept. */
  @Post('enrollmenttokens')
  @Authorize('editor')
  create(@CurrentCaller() caller: Caller, @Body() dto: CreateEnrollmentTokenDto, @Req() req: PalisadeRequest): Promise<EnrollmentTokenView> {
    return this.service.createToken(caller, dto, publicUrl(this.config, req));
  }

  /** Redeems a token for an agent certificate (authenticated by the token itself). */
  @Post('enroll')
  @HttpCode(201)
  @EnrollmentTokenAuthenticated()
  enroll(@Body() dto: EnrollDto): Promise<EnrollResponse> {
    return this.service.enroll(dto);
  }
}
