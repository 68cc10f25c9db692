import { Module } from '@nestjs/common';
import { NamespacesModule } from '../namespaces/namespaces.module';
import { NetworkPoliciesModule } from '../networkpolicies/networkpolicies.module';
import { ProcessingUnitsModule } from '../processingunits/processingunits.module';
import { ServicesModule } from '../services/services.module';
import { ExportService } from './export.service';
import { ImportExportController } from './importexport.controller';
import { ImportService } from './import.service';

@Module({
  imports: [NamespacesModule, ProcessingUnitsModule, ServicesModule, NetworkPoliciesModule],
  controllers: [ImportExportController],
  providers: [ImportService, ExportService],
  exports: [ImportService, ExportService],
})
export class ImportExportModule {}
