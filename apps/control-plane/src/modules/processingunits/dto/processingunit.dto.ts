import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsIn, IsInt, Min } from 'class-validator';
import { Absent, BaseObjectDto, type BaseView } from '../../../common/base.dto';
import { IsPortSpecs, IsTags } from '../../../common/validation';
import { PU_TYPES, type PuType } from '../processingunit.entity';

export class CreateProcessingUnitDto extends BaseObjectDto {
  @ApiProperty({ enum: PU_TYPES })
  @IsIn(PU_TYPES)
  type!: PuType;

  @ApiPropertyOptional({ type: [String], example: ['app=server'] })
  @Absent()
  @ArrayMaxSize(128)
  @IsTags()
  associatedTags?: string[];

  @ApiPropertyOptional({ type: [String], example: ['tcp/8106'] })
  @Absent()
  @ArrayMaxSize(128)
  @IsPortSpecs()
  ports?: string[];
}

export class UpdateProcessingUnitDto extends CreateProcessingUnitDto {
  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  version!: number;
}

export interface ProcessingUnitView extends BaseView {
  type: PuType;
  associatedTags: string[];
  ports: string[];
  agentId: string | null;
}
