import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type DataSource } from 'typeorm';
import { AuthGuard } from './auth/auth.guard';
import { APP_CONFIG, type AppConfig } from './config/config';
import { DatabaseModule } from './database/database.module';
import { ApiTokensModule } from './modules/apitokens/apitokens.module';
import { AuditModule } from './modules/audit/audit.module';
import { CaModule } from './modules/ca/ca.module';
import { HealthModule } from './modules/health/health.module';
import { ImportExportModule } from './modules/importexport/importexport.module';
import { NamespacesModule } from './modules/namespaces/namespaces.module';
import { NetworkPoliciesModule } from './modules/networkpolicies/networkpolicies.module';
import { ProcessingUnitsModule } from './modules/processingunits/processingunits.module';
import { ServicesModule } from './modules/services/services.module';
import { AgentsModule } from './modules/agents/agents.module';

/**
 * Feature modules added on top of the foundation (agents, enrollment, distribution, flow reports, policy
 * check): append them here. Everything they need is global — DataSource, TransactionService, ChangeService,
 * AuditService, CaService, APP_CONFIG — and they may bind AGENT_AUTHENTICATOR (auth/authorize.decorator.ts).
 */
export const FEATURE_MODULES: Type[] = [AgentsModule];

@Global()
@Module({})
class ConfigModule {
  static forConfig(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

export interface AppModuleOptions {
  config: AppConfig;
  dataSource: DataSource;
  kek: Buffer;
  /** Extra modules for this instance only (tests). */
  extraModules?: Type[];
}

@Module({})
export class AppModule {
  static register(o: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forConfig(o.config),
        DatabaseModule.forDataSource(o.dataSource),
        AuditModule,
        CaModule.forKek(o.kek),
        HealthModule,
        ApiTokensModule,
        NamespacesModule,
        ProcessingUnitsModule,
        NetworkPoliciesModule,
        ServicesModule,
        ImportExportModule,
        ...FEATURE_MODULES,
        ...(o.extraModules ?? []),
      ],
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
    };
  }
}
