import { isIP } from 'node:net';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsFQDN, IsIn, IsInt, Min, ValidateBy } from 'class-validator';
import { Absent, BaseObjectDto, type BaseView } from '../../../common/base.dto';
import { IsPortNumber, IsSelector, IsTags } from '../../../common/validation';
import { SERVICE_TYPES, type ServiceType, TLS_TYPES, type TlsType } from '../service.entity';

/** An IP address or CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function isIpOrCidr(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > 64) {
    return false;
  }
  const [addr, bits, ...rest] = v.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) {
    return false;
  }
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

const IsIpOrCidr = () =>
  ValidateBy({
    name: 'ipOrCidr',
    validator: {
      validate: (v: unknown) => isIpOrCidr(v),
      defaultMessage: () => 'each entry must be an IP address or CIDR block',
    },
  }, { each: true });

export class CreateServiceDto extends BaseObjectDto {
  @ApiPropertyOptional({ type: [String], description: 'Addresses clients dial (the load balancer)' })
  @Absent()
  @IsArray()
  @ArrayMaxSize(64)
  @IsIpOrCidr()
  IPs?: string[];

  @ApiPropertyOptional({ type: [String], example: ['lb.example'] })
  @Absent()
  @IsArray()
  @ArrayMaxSize(64)
  @IsFQDN({ require_tld: false, allow_underscores: true }, { each: true })
  hosts?: string[];

  @ApiProperty({ example: 7106, description: 'Port clients dial on IPs/hosts' })
  @IsPortNumber()
  exposedPort!: number;

  @ApiProperty({ example: 8106, description: 'Port the selected processing units listen on' })
  @IsPortNumber()
  port!: number;

  @ApiProperty({ type: 'array', items: { type: 'array', items: { type: 'string' } } })
  @ArrayMaxSize(64)
  @IsSelector()
  selectors!: string[][];

  @ApiPropertyOptional({ type: [String] })
  @Absent()
  @ArrayMaxSize(128)
  @IsTags()
  associatedTags?: string[];

  @ApiPropertyOptional({ enum: SERVICE_TYPES, default: 'TCP' })
  @Absent()
  @IsIn(SERVICE_TYPES)
  type?: ServiceType;

  @ApiPropertyOptional({ enum: TLS_TYPES, default: 'None' })
  @Absent()
  @IsIn(TLS_TYPES)
  TLSType?: TlsType;

  @ApiPropertyOptional({ default: false })
  @Absent()
  @IsBoolean()
  propagate?: boolean;
}

export class UpdateServiceDto extends CreateServiceDto {
  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  version!: number;
}

export interface ServiceView extends BaseView {
  IPs: string[];
  hosts: string[];
  exposedPort: number;
  port: number;
  selectors: string[][];
  associatedTags: string[];
  type: ServiceType;
  TLSType: TlsType;
  propagate: boolean;
}
