import { Module } from '@nestjs/common';
import { MoviesModule } from '../movies/movies.module';
import { TrendingModule } from '../trending/trending.module';
import { BenchmarkController } from './benchmark.controller';
import { BenchmarkRunner } from './benchmark.runner';
import { BenchmarkService } from './benchmark.service';

/** RunBenchmark: a seeded read workload through the server's own GetMovie. */
@Module({
  imports: [MoviesModule, TrendingModule],
  controllers: [BenchmarkController],
  providers: [BenchmarkRunner, BenchmarkService],
})
export class BenchmarkModule {}
