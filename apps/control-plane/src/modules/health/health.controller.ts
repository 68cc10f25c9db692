import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { register } from 'prom-client';
import { DataSource } from 'typeorm';
import { Public } from '../../auth/authorize.decorator';
import { ApiError } from '../../common/api-error';

interface TextResponse {
  type(t: string): TextResponse;
  send(body: string): void;
}

/**
 * Probes and metrics, unauthenticated on purpose: load balancers and Prometheus carry no token, and
 * nothing here reveals tenant data (counts and latencies only).
 */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** Liveness: the process serves requests. */
  @Get('healthz')
  @Public()
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database answers. */
  @Get('readyz')
  @Public()
  async readyz(): Promise<{ status: 'ok' }> {
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'ok' };
    } catch {
      throw new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'database_unavailable', 'the database is not reachable');
    }
  }

  @Get('metrics')
  @Public()
  async metrics(@Res() res: TextResponse): Promise<void> {
    res.type(register.contentType).send(await register.metrics());
  }
}
