import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChangeService } from './change.service';
import { TransactionService } from './transaction.service';

/**
 * Provides the already-initialised DataSource (opened and migrated by createApp before Nest starts, and
 * destroyed by it after Nest has stopped, so nothing in Nest can outlive the database), plus the
 * transaction and change services every domain module uses.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forDataSource(dataSource: DataSource): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DataSource, useValue: dataSource }, TransactionService, ChangeService],
      exports: [DataSource, TransactionService, ChangeService],
    };
  }
}
