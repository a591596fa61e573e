import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from './app-config';

/** Makes the validated config injectable everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static register(config: ResolvedAppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
