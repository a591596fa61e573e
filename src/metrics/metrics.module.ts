import { DynamicModule, Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/** The app's metrics: created before Nest, since the gRPC server's interceptor records into them too. */
@Global()
@Module({})
export class MetricsModule {
  static register(metrics: MetricsService): DynamicModule {
    return {
      module: MetricsModule,
      providers: [{ provide: MetricsService, useValue: metrics }],
      exports: [MetricsService],
    };
  }
}
