import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn } from 'class-validator';
import { Authorize } from '../../auth/authorize.decorator';
import { ApiError } from '../../common/api-error';
import { Absent } from '../../common/base.dto';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { IsNamespacePath } from '../../common/validation';
import { ExportService } from './export.service';
import { type ImportResult, ImportService } from './import.service';

const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class ImportQuery {
  /** Namespace for objects that name none (default: the caller's). */
  @Absent()
  @IsNamespacePath()
  namespace?: string;

  /** Create namespaces the document refers to but does not define. */
  @Absent()
  @Transform(toBool)
  @IsBoolean()
  createNamespaces?: boolean;
}

export class ExportQuery {
  @Absent()
  @IsNamespacePath()
  namespace?: string;

  @Absent()
  @IsIn(['yaml', 'json'])
  format?: 'yaml' | 'json';
}

/** Minimal view of Express's response: we only set the type and send text. */
interface TextResponse {
  type(t: string): TextResponse;
  send(body: string): void;
}

@ApiTags('import/export')
@Controller('v1')
export class ImportExportController {
  constructor(
    private readonly importer: ImportService,
    private readonly exporter: ExportService,
  ) {}

  @Post('import')
  @HttpCode(200)
  @Authorize('editor')
  @ApiConsumes('application/yaml', 'text/yaml', 'application/json')
  @ApiBody({ description: 'A document { APIVersion: 0, data: { namespaces, processingunits, services, networkaccesspolicies }, identities }' })
  import(
    @CurrentCaller() c: Caller,
    @Body() body: unknown,
    @Query() q: ImportQuery,
    @Headers('content-type') contentType?: string,
  ): Promise<ImportResult> {
    const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!['application/yaml', 'text/yaml', 'application/x-yaml', 'application/json'].includes(type)) {
      throw new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'unsupported_media_type', 'send the document as application/yaml, text/yaml or application/json');
    }
    return this.importer.import(c, body, q);
  }

  @Get('export')
  @Authorize('viewer')
  @ApiProduces('application/yaml', 'application/json')
  async export(
    @CurrentCaller() c: Caller,
    @Query() q: ExportQuery,
    @Headers('accept') accept: string | undefined,
    @Res() res: TextResponse,
  ): Promise<void> {
    const doc = await this.exporter.export(c, q.namespace);
    const json = q.format === 'json' || (q.format === undefined && /^application\/json\b/i.test(accept ?? ''));
    if (json) {
      res.type('application/json').send(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      res.type('application/yaml').send(ExportService.toYaml(doc));
    }
  }
}
