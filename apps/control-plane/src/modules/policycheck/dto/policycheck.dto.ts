import { ApiProperty } from '@nestjs/swagger';
import { IsArray, IsString, Matches, MaxLength, ArrayMaxSize } from 'class-validator';
import { IsNamespacePath } from '../../../common/validation';

/** A what-if question: would a flow from these subject tags to these object tags on this port be allowed? */
export class PolicyCheckDto {
  @ApiProperty({ example: '/aporeto/lbtest3' })
  @IsNamespacePath()
  namespace!: string;

  @ApiProperty({ type: [String], example: ['$namespace=/aporeto/lbtest3', 'app=client'] })
  @IsArray()
  @ArrayMaxSize(256)
  @IsString({ each: true })
  @MaxLength(255, { each: true })
  @Matches(/^[^=\s]+=.*$/, { each: true, message: 'each tag must be key=value' })
  subject!: string[];

  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMaxSize(256)
  @IsString({ each: true })
  @MaxLength(255, { each: true })
  @Matches(/^[^=\s]+=.*$/, { each: true, message: 'each tag must be key=value' })
  object!: string[];

  @ApiProperty({ example: 'tcp/8106' })
  @IsString()
  @Matches(/^tcp\/\d{1,5}$/, { message: 'port must look like tcp/8106' })
  port!: string;
}
