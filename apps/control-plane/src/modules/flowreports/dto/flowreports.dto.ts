import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsNamespacePath } from '../../../common/validation';

export class ListFlowReportsQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsNamespacePath()
  namespace?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  recursive?: boolean;

  @ApiPropertyOptional({ description: 'ISO 8601; records last seen at or after' })
  @IsOptional()
  @IsISO8601()
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601; records first seen at or before' })
  @IsOptional()
  @IsISO8601()
  to?: string;

  @ApiPropertyOptional({ enum: ['Allow', 'Reject'] })
  @IsOptional()
  @IsIn(['Allow', 'Reject'])
  action?: 'Allow' | 'Reject';

  @ApiPropertyOptional({ description: 'A processing unit id or name (source or destination)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  pu?: string;

  @ApiPropertyOptional({ default: 1000 })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;
}
