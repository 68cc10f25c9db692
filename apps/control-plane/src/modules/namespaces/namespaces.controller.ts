import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean } from 'class-validator';
import { Authorize } from '../../auth/authorize.decorator';
import { Absent, ListQuery } from '../../common/base.dto';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { CreateNamespaceDto, type NamespaceView, UpdateNamespaceDto } from './dto/namespace.dto';
import { NamespacesService } from './namespaces.service';

export class DeleteNamespaceQuery {
  @Absent()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  cascade?: boolean;
}

@ApiTags('namespaces')
@Controller('v1/namespaces')
export class NamespacesController {
  constructor(private readonly sut: NamespacesService) {}

  @Get()
  @Authorize('viewer')
  list(@CurrentCaller() c: Caller, @Query() q: ListQuery): Promise<NamespaceView[]> {
    return this.sut.list(c, q);
  }

  @Get(':id')
  @Authorize('viewer')
  get(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<NamespaceView> {
    return this.sut.get(c, id);
  }

  @Post()
  @Authorize('editor')
  create(@CurrentCaller() c: Caller, @Body() dto: CreateNamespaceDto): Promise<NamespaceView> {
    return this.sut.create(c, dto);
  }

  @Put(':id')
  @Authorize('editor')
  update(@CurrentCaller() c: Caller, @Param('id') id: string, @Body() dto: UpdateNamespaceDto): Promise<NamespaceView> {
    return this.sut.update(c, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('editor')
  remove(@CurrentCaller() c: Caller, @Param('id') id: string, @Query() q: DeleteNamespaceQuery): Promise<void> {
    return this.sut.remove(c, id, q.cascade === true);
  }
}
