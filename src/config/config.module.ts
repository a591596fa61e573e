import { DynamicModule, Global, Module } from '@nestjs/common';
import type { HealthImplementation } from 'grpc-health-check';
import { HEALTH } from '../health/health.monitor';
import { APP_CONFIG, type ResolvedAppConfig } from './app-config';

/** Makes the validated config (and the server's health service) injectable everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static register(config: ResolvedAppConfig, health: HealthImplementation): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: HEALTH, useValue: health },
      ],
      exports: [APP_CONFIG, HEALTH],
    };
  }
}
