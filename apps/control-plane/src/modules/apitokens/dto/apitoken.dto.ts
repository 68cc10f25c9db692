import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsString, Length, Matches } from 'class-validator';
import { ROLES, type Role } from '../../../auth/principal';
import { Absent, NAME_PATTERN } from '../../../common/base.dto';
import { IsNamespacePath } from '../../../common/validation';

export class CreateApiTokenDto {
  @ApiProperty({ example: 'ci-deployer' })
  @IsString()
  @Length(1, 255)
  @Matches(NAME_PATTERN, { message: 'name must be printable and contain no "/"' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({ description: "Subtree the token may act in (default: the caller's namespace)" })
  @Absent()
  @IsNamespacePath()
  namespace?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  @Absent()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

export interface ApiTokenView {
  id: string;
  name: string;
  role: Role;
  namespace: string;
  createdBy: string | null;
  expiresAt: string | null;
  createTime: string;
}

/** Returned once, by POST: the only time the secret is ever shown. */
export interface CreatedApiTokenView extends ApiTokenView {
  token: string;
}
