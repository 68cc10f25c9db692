import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Length, Max, Min } from 'class-validator';
import { Absent, type BaseView } from '../../../common/base.dto';
import { IsNamespacePath } from '../../../common/validation';
import { type DefaultAction } from '../namespace.entity';

/** PU certificates: at least 5 minutes (DESIGN.md §3), at most a day (agent certificates' lifetime). */
export const PU_CERT_TTL_MIN = 300;
export const PU_CERT_TTL_MAX = 86_400;

export class CreateNamespaceDto {
  @ApiProperty({
    description: 'Full path (/acme/prod), or one segment created under `namespace`',
    example: '/aporeto/lbtest3',
  })
  @IsString()
  @Length(1, 512)
  name!: string;

  @ApiPropertyOptional({ description: 'Parent path when `name` is a single segment' })
  @Absent()
  @IsNamespacePath()
  namespace?: string;

  @ApiPropertyOptional({ maxLength: 1024 })
  @Absent()
  @IsString()
  @Length(0, 1024)
  description?: string;

  @ApiPropertyOptional({ enum: ['Allow', 'Reject'], default: 'Reject', description: 'Decision when no policy matches' })
  @Absent()
  @IsIn(['Allow', 'Reject'])
  defaultAction?: DefaultAction;

  @ApiPropertyOptional({ default: 3600, minimum: PU_CERT_TTL_MIN, maximum: PU_CERT_TTL_MAX })
  @Absent()
  @IsInt()
  @Min(PU_CERT_TTL_MIN)
  @Max(PU_CERT_TTL_MAX)
  puCertificateTtlSeconds?: number;
}

export class UpdateNamespaceDto extends CreateNamespaceDto {
  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  version!: number;
}

export interface NamespaceView extends BaseView {
  defaultAction: DefaultAction;
  puCertificateTtlSeconds: number;
}
