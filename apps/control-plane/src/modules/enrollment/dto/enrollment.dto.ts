import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsNamespacePath, IsTags } from '../../../common/validation';

export class CreateEnrollmentTokenDto {
  @ApiProperty({ example: '/aporeto/lbtest3' })
  @IsNamespacePath()
  namespace!: string;

  @ApiPropertyOptional({ default: 600, minimum: 60, maximum: 604800 })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(604_800)
  ttlSeconds?: number;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 10000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxUses?: number;

  @ApiPropertyOptional({ type: [String], description: 'Tags the enrolled agent may claim for its processing units' })
  @IsOptional()
  @IsTags()
  tags?: string[];
}

export class EnrollDto {
  @ApiProperty({ description: 'The enrollment token exactly as it was issued' })
  @IsString()
  @MaxLength(4096)
  token!: string;

  @ApiProperty({ description: 'PEM PKCS#10 request for the agent key (ECDSA P-256); the key stays on the host' })
  @IsString()
  @MaxLength(16_384)
  csr!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(253)
  hostname?: string;
}
