import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { MovieEntity, MovieSchema } from './movie.schema';
import { MoviesRepository } from './movies.repository';

/** MongoDB access for every feature that reads movies. */
@Module({
  imports: [MongooseModule.forFeature([{ name: MovieEntity.name, schema: MovieSchema }])],
  providers: [MoviesRepository],
  exports: [MoviesRepository],
})
export class MovieDataModule {}
