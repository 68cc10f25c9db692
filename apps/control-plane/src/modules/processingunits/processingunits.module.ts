import { Module } from '@nestjs/common';
import { ProcessingUnitsController } from './processingunits.controller';
import { ProcessingUnitsService } from './processingunits.service';

@Module({ controllers: [ProcessingUnitsController], providers: [ProcessingUnitsService], exports: [ProcessingUnitsService] })
export class ProcessingUnitsModule {}
