import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authorize } from '../../auth/authorize.decorator';
import { type Caller, CurrentCaller } from '../../common/request-context';
import { ApiTokensService } from './apitokens.service';
import { type ApiTokenView, CreateApiTokenDto, type CreatedApiTokenView } from './dto/apitoken.dto';

@ApiTags('apitokens')
@Controller('v1/apitokens')
export class ApiTokensController {
  constructor(private readonly sut: ApiTokensService) {}

  @Post()
  @Authorize('admin')
  create(@CurrentCaller() c: Caller, @Body() dto: CreateApiTokenDto): Promise<CreatedApiTokenView> {
    return this.sut.create(c, dto);
  }

  @Get()
  @Authorize('admin')
  list(@CurrentCaller() c: Caller): Promise<ApiTokenView[]> {
    return this.sut.list(c);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('admin')
  remove(@CurrentCaller() c: Caller, @Param('id') id: string): Promise<void> {
    return this.sut.remove(c, id);
  }
}
