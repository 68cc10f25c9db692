import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsString, Length, Matches, Min, ValidateIf } from 'class-validator';
import { IsNamespacePath } from './validation';

/** Like @IsOptional, but only `undefined` (absent) is optional — an explicit null is still validated and refused. */
export const Absent = () => ValidateIf((_o, v: unknown) => v !== undefined);

/** Names: printable, no slashes (a name is one path segment of the API), 1–255 characters. */
export const NAME_PATTERN = /^[^\u0000-\u001f\u007f/]+$/;

/** Fields every namespaced object accepts on create, update and import. */
export abstract class BaseObjectDto {
  @ApiProperty({ example: 'client-to-mylbtest3', maxLength: 255 })
  @IsString()
  @Length(1, 255)
  @Matches(NAME_PATTERN, { message: 'name must be printable and contain no "/"' })
  name!: string;

  @ApiPropertyOptional({ description: 'Namespace path; defaults to ?namespace= or the caller\'s namespace', example: '/aporeto/lbtest3' })
  @Absent()
  @IsNamespacePath()
  namespace?: string;

  @ApiPropertyOptional({ maxLength: 1024 })
  @Absent()
  @IsString()
  @Length(0, 1024)
  description?: string;
}

/** The version an update is based on (optimistic concurrency: stale → 409 version_conflict). */
export class VersionDto {
  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  version!: number;
}

/** `?namespace=/x&recursive=true&name=y` on list routes. */
export class ListQuery {
  @ApiPropertyOptional({ description: "Defaults to the caller's namespace" })
  @Absent()
  @IsNamespacePath()
  namespace?: string;

  @ApiPropertyOptional({ description: 'Include descendant namespaces' })
  @Absent()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  recursive?: boolean;

  @ApiPropertyOptional({ description: 'Only the object with this name' })
  @Absent()
  @IsString()
  @Length(1, 255)
  name?: string;
}

/** Common fields of every object in API responses. */
export interface BaseView {
  id: string;
  namespace: string;
  name: string;
  description: string;
  createTime: string;
  updateTime: string;
  version: number;
}
