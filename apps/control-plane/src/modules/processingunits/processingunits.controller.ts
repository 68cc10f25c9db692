import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authorize } from '../../auth/authorize.decorator';
import { ListQuery } from '../../common/base.dto';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { CreateProcessingUnitDto, type ProcessingUnitView, UpdateProcessingUnitDto } from './dto/processingunit.dto';
import { ProcessingUnitsService } from './processingunits.service';

@ApiTags('processingunits')
@Controller('v1/processingunits')
export class ProcessingUnitsController {
  constructor(private readonly sut: ProcessingUnitsService) {}

  @Get()
  @Authorize('viewer')
  list(@CurrentCaller() c: Caller, @Query() q: ListQuery): Promise<ProcessingUnitView[]> {
    return this.sut.list(c, q);
  }

  @Get(':id')
  @Authorize('viewer')
  get(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<ProcessingUnitView> {
    return this.sut.get(c, id);
  }

  @Post()
  @Authorize('editor')
  create(@CurrentCaller() c: Caller, @Body() dto: CreateProcessingUnitDto): Promise<ProcessingUnitView> {
    return this.sut.create(c, dto);
  }

  @Put(':id')
  @Authorize('editor')
  update(@CurrentCaller() c: Caller, @Param('id') id: string, @Body() dto: UpdateProcessingUnitDto): Promise<ProcessingUnitView> {
    return this.sut.update(c, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('editor')
  remove(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<void> {
    return this.sut.remove(c, id);
  }
}
