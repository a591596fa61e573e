import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { MovieEntity, MovieSchema } from './movie.schema';
import { MoviesRepository } from './movies.repository';

/** The movies collection (Mongoose): one repository for the service, the cache and the others. */
@Module({
  imports: [MongooseModule.forFeature([{ name: MovieEntity.name, schema: MovieSchema }])],
  providers: [MoviesRepository],
  exports: [MoviesRepository],
})
export class MoviesRepositoryModule {}
