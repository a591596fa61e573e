import { Prop, Schema, SchemaFactory, raw } from '@nestjs/mongoose';
import type { HydratedDocument } from 'mongoose';

export const MOVIES_COLLECTION = 'movies';

/** The sample_mflix fields the API exposes, plus `revision`; other source fields are kept as stored. */
@Schema({ collection: MOVIES_COLLECTION, versionKey: false, strict: false, autoCreate: false })
export class MovieEntity {
  @Prop({ type: String, required: true })
  title!: string;

  // Some sample_mflix years are strings such as "2007è"; the mapper reads the leading digits.
  @Prop({ type: 'Mixed' })
  year?: number | string;

  @Prop({ type: String })
  plot?: string;

  @Prop(raw({ rating: { type: 'Mixed' }, votes: { type: 'Mixed' }, id: { type: Number } }))
  imdb?: { rating?: number | string; votes?: number | string; id?: number };

  @Prop({ type: [String] })
  genres?: string[];

  @Prop({ type: [String] })
  directors?: string[];

  @Prop({ type: [String] })
  cast?: string[];

  @Prop({ type: Number })
  runtime?: number;

  @Prop({ type: Number, default: 0 })
  revision?: number;
}

export type MovieDocument = HydratedDocument<MovieEntity>;

export const MovieSchema = SchemaFactory.createForClass(MovieEntity);
// Title lookups: exact title (optionally year), most votes first.
MovieSchema.index({ title: 1, 'imdb.votes': -1 });
MovieSchema.index({ title: 1, year: 1, 'imdb.votes': -1 });
