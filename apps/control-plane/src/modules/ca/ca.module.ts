import { type DynamicModule, Global, Module } from '@nestjs/common';
import { CaController } from './ca.controller';
import { CA_KEK, CaService } from './ca.service';

/** Global: enrollment and agent modules issue certificates through CaService. */
@Global()
@Module({})
export class CaModule {
  static forKek(kek: Buffer): DynamicModule {
    return {
      module: CaModule,
      controllers: [CaController],
      providers: [{ provide: CA_KEK, useValue: kek }, CaService],
      exports: [CaService],
    };
  }
}
