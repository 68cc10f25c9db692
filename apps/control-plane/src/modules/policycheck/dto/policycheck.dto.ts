import { ApiProperty } from '@nestjs/swagger';
import { IsConcretePort, IsEffectiveTags, IsNamespacePath } from '../../../common/validation';

/** A what-if question: would a flow from these subject tags to these object tags on this port be allowed? */
export class PolicyCheckDto {
  @ApiProperty({ example: '/aporeto/lbtest3' })
  @IsNamespacePath()
  namespace!: string;

  @ApiProperty({ type: [String], example: ['$namespace=/aporeto/lbtest3', 'app=client'] })
  @IsEffectiveTags()
  subject!: string[];

  @ApiProperty({ type: [String], example: ['$namespace=/aporeto/lbtest3', '$type=HostService', 'hs:name=tcp:8106'] })
  @IsEffectiveTags()
  object!: string[];

  @ApiProperty({ example: 'tcp/8106' })
  @IsConcretePort()
  port!: string;
}
