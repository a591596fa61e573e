import { Module } from '@nestjs/common';
import { MovieDataModule } from '../movies/movie-data.module';
import { BenchmarkTraffic } from './benchmark-traffic';
import { BenchmarkRunner } from './benchmark.runner';
import { BenchmarkService } from './benchmark.service';

@Module({
  imports: [MovieDataModule],
  providers: [BenchmarkTraffic, BenchmarkRunner, BenchmarkService],
  exports: [BenchmarkService, BenchmarkTraffic],
})
export class BenchmarkModule {}
