import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsBoolean, IsIn, IsInt, IsISO8601, Min, ValidateIf } from 'class-validator';
import { Absent, BaseObjectDto, type BaseView } from '../../../common/base.dto';
import { IsPortSpecs, IsSelector } from '../../../common/validation';
import { APPLY_POLICY_MODES, type ApplyPolicyMode, type PolicyAction } from '../networkpolicy.entity';

const selectorDoc = { type: 'array', items: { type: 'array', items: { type: 'string' } } } as const;

export class CreateNetworkPolicyDto extends BaseObjectDto {
  @ApiProperty({ ...selectorDoc, example: [['app=client']], description: 'Who initiates (OR of AND-clauses)' })
  @ArrayMaxSize(64)
  @IsSelector()
  subject!: string[][];

  @ApiProperty({ ...selectorDoc, example: [['service=mylbtest3']], description: 'Who receives' })
  @ArrayMaxSize(64)
  @IsSelector()
  object!: string[][];

  @ApiProperty({ enum: ['Allow', 'Reject'] })
  @IsIn(['Allow', 'Reject'])
  action!: PolicyAction;

  @ApiPropertyOptional({ type: [String], description: 'Empty = any port', example: ['tcp/8106'] })
  @Absent()
  @ArrayMaxSize(128)
  @IsPortSpecs()
  ports?: string[];

  @ApiPropertyOptional({ enum: APPLY_POLICY_MODES, default: 'Bidirectional' })
  @Absent()
  @IsIn(APPLY_POLICY_MODES)
  applyPolicyMode?: ApplyPolicyMode;

  @ApiPropertyOptional({ default: true })
  @Absent()
  @IsBoolean()
  encryptionEnabled?: boolean;

  @ApiPropertyOptional({ default: false })
  @Absent()
  @IsBoolean()
  logsEnabled?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Record the verdict, do not enforce' })
  @Absent()
  @IsBoolean()
  observationEnabled?: boolean;

  @ApiPropertyOptional({ default: false })
  @Absent()
  @IsBoolean()
  propagate?: boolean;

  @ApiPropertyOptional({ default: false })
  @Absent()
  @IsBoolean()
  fallback?: boolean;

  @ApiPropertyOptional({ default: false })
  @Absent()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ nullable: true, format: 'date-time' })
  @ValidateIf((_o, v: unknown) => v !== undefined && v !== null)
  @IsISO8601({ strict: true })
  expirationTime?: string | null;
}

export class UpdateNetworkPolicyDto extends CreateNetworkPolicyDto {
  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  version!: number;
}

export interface NetworkPolicyView extends BaseView {
  subject: string[][];
  object: string[][];
  action: PolicyAction;
  ports: string[];
  applyPolicyMode: ApplyPolicyMode;
  encryptionEnabled: boolean;
  logsEnabled: boolean;
  observationEnabled: boolean;
  propagate: boolean;
  fallback: boolean;
  disabled: boolean;
  expirationTime: string | null;
}
