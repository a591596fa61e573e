import { Module } from '@nestjs/common';
import { MovieCacheModule } from '../cache/movie-cache.module';
import { ChangeFeed } from './change-feed.service';
import { FeedLeader } from './feed-leader';

/** Writes made to MongoDB outside the service, applied to the caches by one leader per fleet. */
@Module({
  imports: [MovieCacheModule],
  providers: [FeedLeader, ChangeFeed],
  exports: [ChangeFeed],
})
export class ChangeFeedModule {}
