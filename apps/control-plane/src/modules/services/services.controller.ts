import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authorize } from '../../auth/authorize.decorator';
import { ListQuery } from '../../common/base.dto';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { CreateServiceDto, type ServiceView, UpdateServiceDto } from './dto/service.dto';
import { ServicesService } from './services.service';

@ApiTags('services')
@Controller('v1/services')
export class ServicesController {
  constructor(private readonly sut: ServicesService) {}

  @Get()
  @Authorize('viewer')
  list(@CurrentCaller() c: Caller, @Query() q: ListQuery): Promise<ServiceView[]> {
    return this.sut.list(c, q);
  }

  @Get(':id')
  @Authorize('viewer')
  get(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<ServiceView> {
    return this.sut.get(c, id);
  }

  @Post()
  @Authorize('editor')
  create(@CurrentCaller() c: Caller, @Body() dto: CreateServiceDto): Promise<ServiceView> {
    return this.sut.create(c, dto);
  }

  @Put(':id')
  @Authorize('editor')
  update(@CurrentCaller() c: Caller, @Param('id') id: string, @Body() dto: UpdateServiceDto): Promise<ServiceView> {
    return this.sut.update(c, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('editor')
  remove(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<void> {
    return this.sut.remove(c, id);
  }
}
