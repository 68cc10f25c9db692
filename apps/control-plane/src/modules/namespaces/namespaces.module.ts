import { Module } from '@nestjs/common';
import { NetworkPoliciesModule } from '../networkpolicies/networkpolicies.module';
import { ProcessingUnitsModule } from '../processingunits/processingunits.module';
import { ServicesModule } from '../services/services.module';
import { NamespacesController } from './namespaces.controller';
import { NamespacesService } from './namespaces.service';

@Module({
  imports: [ProcessingUnitsModule, NetworkPoliciesModule, ServicesModule],
  controllers: [NamespacesController],
  providers: [NamespacesService],
  exports: [NamespacesService],
})
export class NamespacesModule {}
